import Foundation
import Testing

@testable import ImagedropParsing

/// Every committed fuzz input — the hand-made seeds and each crash libFuzzer once found (`regression-*`) — run
/// through its target in the ordinary debug build. The targets check what must hold of each answer with
/// preconditions, so an input that breaks a parser again traps this test run.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus").standardized

    static func inputs(_ target: FuzzTarget) throws -> [URL] {
        let folder = corpus.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every target has a corpus folder with seeds", arguments: FuzzTarget.allCases)
    func everyTargetSeeded(_ target: FuzzTarget) throws {
        let names = try Self.inputs(target).map(\.lastPathComponent)
        #expect(names.contains { $0.hasPrefix("seed-") }, "Fuzz/corpus/\(target.rawValue) has no seed-* input")
    }

    @Test("every committed input runs through its target without a trap", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        for input in try Self.inputs(target) {
            target.run(Array(try Data(contentsOf: input)))
        }
    }

    @Test("the 24-byte HEIC that crashed the daemon in a loop is a HEIC without sizes, not a trap")
    func emptyMetaBox() throws {
        let bytes = Array(
            try Data(contentsOf: Self.corpus.appendingPathComponent("probe-isobmff/regression-empty-meta-box")))
        #expect(bytes.count == 24)
        let info = ImageProbe.probe(fileSize: bytes.count) { offset, count in Array(bytes[offset..<offset + count]) }
        #expect(info == ImageInfo(format: .heic))
    }
}
