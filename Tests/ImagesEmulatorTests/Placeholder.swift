import Testing

@Test func placeholderImagesEmulatorTests() {}
