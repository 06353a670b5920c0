import Foundation
import Testing

/// Issue 25: the installed binary went from 66 MB to 24 MB by leaving swift-corelibs-foundation out. One
/// call that resolves to it (JSONSerialization, NSString's `range(of:)` behind `String.contains`, Thread…)
/// links it back, with 34 MB of ICU data. The debug binary is linked against the shared libraries, so every
/// symbol it takes from them is listed: none may come from the `Foundation` module (FoundationEssentials is fine).
@Suite("Foundation-free binary")
struct FoundationFreeBinaryTests {
    @Test("imagedrop takes no symbol from swift-corelibs-foundation")
    func noCorelibsFoundation() throws {
        let (status, symbols, errors) = try DaemonFixture.run(
            "/usr/bin/nm", ["-D", "--undefined-only", DaemonFixture.binary("imagedrop")],
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(status == 0, "\(errors)")
        #expect(symbols.contains("20FoundationEssentials"), "the listing should name FoundationEssentials' symbols")
        let foundation = symbols.split(separator: "\n").filter {
            $0.contains("10Foundation") || $0.contains("NSObject")
        }
        #expect(foundation.isEmpty, "symbols from Foundation: \(foundation.prefix(5))")
    }
}
