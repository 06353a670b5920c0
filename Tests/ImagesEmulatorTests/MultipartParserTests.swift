import NIOCore
import Testing

@testable import ImagesEmulator

@Suite("Multipart parser")
struct MultipartParserTests {
    private struct Part: Equatable {
        var headers: MultipartPartHeaders
        var body: [UInt8]
    }

    private func parse(_ body: [UInt8], boundary: String, chunkSizes: [Int]) throws -> [Part] {
        var parser = MultipartParser(boundary: boundary)
        var parts: [Part] = []
        var events: [MultipartEvent] = []
        var offset = 0
        var index = 0
        while offset < body.count {
            let size = chunkSizes[index % chunkSizes.count]
            let end = min(body.count, offset + size)
            try parser.feed(ByteBuffer(bytes: body[offset..<end]), into: &events)
            offset = end
            index += 1
        }
        try parser.finish()
        for event in events {
            switch event {
            case .partBegin(let headers): parts.append(Part(headers: headers, body: []))
            case .partData(let data): parts[parts.count - 1].body += data.readableBytesView
            case .partEnd: break
            }
        }
        return parts
    }

    @Test("a form parses the same however it is split, including inside CRLF and the boundary")
    func splitAnywhere() throws {
        // The file body contains CR, LF, dashes and a near-boundary to catch false matches.
        let file: [UInt8] = Array("\r\n--bound\r\n--boundar\r\r\n-".utf8) + (0..<300).map { UInt8($0 % 256) }
        var form = MultipartBody(boundary: "boundary")
        form.addField("id", "a/b")
        form.addFile(file, filename: "x y.png")
        form.addField("metadata", #"{"k":"v"}"#)
        let body = Array("preamble\r\n".utf8) + form.finished() + Array("epilogue".utf8)
        let expected = try parse(body, boundary: "boundary", chunkSizes: [body.count])
        #expect(expected.count == 3)
        #expect(expected[0] == Part(headers: MultipartPartHeaders(name: "id"), body: Array("a/b".utf8)))
        #expect(expected[1].headers.filename == "x y.png")
        #expect(expected[1].body == file)
        for size in 1...40 {
            #expect(try parse(body, boundary: "boundary", chunkSizes: [size]) == expected)
        }
        #expect(try parse(body, boundary: "boundary", chunkSizes: [3, 17, 1, 64, 2]) == expected)
    }

    @Test("a body without its closing delimiter is an error")
    func truncated() throws {
        var form = MultipartBody(boundary: "b")
        form.addField("id", "x")
        #expect(throws: MultipartError.self) { try parse(form.bytes, boundary: "b", chunkSizes: [5]) }
    }

    @Test("Content-Disposition parameters: quoted, escaped and RFC 5987")
    func dispositionParameters() throws {
        let headers = try MultipartParser.parseHeaders(
            Array(
                "Content-Disposition: form-data; name=\"file\"; filename=\"a\\\"b.png\"; filename*=UTF-8''caf%C3%A9.png\r\nContent-Type: image/png"
                    .utf8))
        #expect(headers.name == "file")
        #expect(headers.filename == "café.png")
        #expect(headers.contentType == "image/png")
    }
}
