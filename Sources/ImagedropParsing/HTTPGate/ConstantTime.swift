/// Comparing secrets (the bearer token, a CSRF MAC) without an early exit: the time taken depends on the
/// lengths alone, never on where the first difference is.
package enum ConstantTime {
    package static func equal(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        // Every byte of `expected` is visited whatever `given` holds; a length difference is folded in.
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
