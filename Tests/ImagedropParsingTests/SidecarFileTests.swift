import ImagedropParsing
import Testing

@Suite("Sidecar files found beside a file")
struct SidecarFileTests {
    @Test("the job an existing sidecar names; anything else — text, a string id, 1e400, deep nesting — names none")
    func owner() {
        #expect(SidecarFile.jobID(Array(#"{"id": "x", "job": 17}"#.utf8)) == 17)
        for text in [
            #"{"job": "17"}"#, #"{"job": 1e400}"#, #"{"job": 1.5}"#, "[17]", "not json", "",
            String(repeating: "[", count: 100_000),
        ] {
            #expect(SidecarFile.jobID(Array(text.utf8)) == nil, "\(text.prefix(20))")
        }
    }
}
