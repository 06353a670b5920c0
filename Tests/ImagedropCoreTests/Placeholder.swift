import Testing

@Test func placeholderImagedropCoreTests() {}
