import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagesEmulator

@Suite("Uploads")
struct UploadTests {
    @Test("a successful upload answers with the reference envelope")
    func successEnvelope() throws {
        try withEmulator { server throws in
            let png = SampleImages.png(width: 16, height: 9)
            let response = try server.upload(
                png, filename: "cat.png",
                fields: [("id", "drop/cat.png"), ("metadata", #"{"source":"test","n":1}"#), ("creator", "me")])
            #expect(response.status == 200)
            #expect(response.header("content-type") == "application/json")
            let json = response.json
            #expect(json["success"] == .bool(true))
            #expect(json["errors"] == .array([]))
            #expect(json["messages"] == .array([]))
            let result = try #require(response.result)
            #expect(result["id"] == .string("drop/cat.png"))
            #expect(result["filename"] == .string("cat.png"))
            #expect(result["creator"] == .string("me"))
            #expect(result["meta"] == .object([("source", .string("test")), ("n", .number("1"))]))
            #expect(result["requireSignedURLs"] == .bool(false))
            #expect(
                result["variants"]
                    == .array([
                        .string("https://imagedelivery.net/Vi7wi5KSItxGFsWRG2Us6Q/drop/cat.png/public"),
                        .string("https://imagedelivery.net/Vi7wi5KSItxGFsWRG2Us6Q/drop/cat.png/thumbnail"),
                    ]))
            let uploaded = try #require(result["uploaded"]?.stringValue)
            #expect(uploaded.count == 24 && uploaded.hasSuffix("Z") && uploaded.contains("."))
            #expect(Timestamp.parseISO8601(uploaded) != nil)

            let stored = server.storedImages()
            #expect(stored.count == 1)
            #expect(stored.first?.sha256 == SHA256Hasher.hex(of: png))
            #expect(stored.first?.size == png.count)
            #expect(server.requestLog().first?.fileSHA256 == SHA256Hasher.hex(of: png))
        }
    }

    @Test("the parts may come in any order: the file before or after its id and metadata gives the same image")
    func partOrder() throws {
        try withEmulator { server throws in
            let png = SampleImages.png(width: 12, height: 12, seed: 3)
            let fields = [("id", "order/file-first"), ("metadata", #"{"sha256":"x"}"#), ("requireSignedURLs", "false")]
            // Fields after the file: how imagedrop sends a file it hashes while sending it.
            let fileFirst = try server.upload(png, filename: "a.png", fields: fields)
            var form = MultipartBody()
            for (name, value) in fields {
                form.addField(name, value == "order/file-first" ? "order/fields-first" : value)
            }
            form.addFile(png, filename: "a.png")
            let fieldsFirst = try server.client().request(
                "POST", server.imagesPath,
                headers: [("Authorization", "Bearer \(testToken)"), ("Content-Type", form.contentType)],
                body: form.finished())
            #expect(fileFirst.status == 200 && fieldsFirst.status == 200)
            #expect(fileFirst.result?["id"] == .string("order/file-first"))
            #expect(fieldsFirst.result?["id"] == .string("order/fields-first"))
            #expect(fileFirst.result?["meta"] == fieldsFirst.result?["meta"])
            let stored = server.storedImages()
            #expect(stored.count == 2 && stored.allSatisfy { $0.sha256 == SHA256Hasher.hex(of: png) })
        }
    }

    @Test("without a custom id the image gets a generated UUID")
    func generatedID() throws {
        try withEmulator { server throws in
            let response = try server.upload()
            let id = try #require(response.result?["id"]?.stringValue)
            #expect(CustomIDRules.looksLikeUUID(id))
            #expect(id.count == 36)
        }
    }

    @Test("a second upload under the same id is refused with 409 and 5409")
    func duplicateID() throws {
        try withEmulator { server throws in
            #expect(try server.upload(fields: [("id", "same")]).status == 200)
            let again = try server.upload(fields: [("id", "same")])
            #expect(again.status == 409)
            #expect(again.errorCode == 5409)
            #expect(
                again.json["errors"]
                    == .array([
                        .object([
                            ("code", .number("5409")), ("message", .string("ERROR 5409: Resource already exists")),
                        ])
                    ]))
            #expect(again.json["result"] == .null)
            #expect(again.json["success"] == .bool(false))
            #expect(server.storedImages().count == 1)
        }
    }

    @Test(
        "custom ids that break the rules are refused with 5411",
        arguments: [
            "2cdc28f0-017a-49c4-9ed7-870566c83901", "2cdc28f0017a49c49ed7870566c83901", "/leading", "trailing/",
            String(repeating: "a", count: 1025), "notes.txt",
        ])
    func invalidCustomID(id: String) throws {
        try withEmulator { server throws in
            let response = try server.upload(fields: [("id", id)])
            #expect(response.status == 400)
            #expect(response.errorCode == 5411)
        }
    }

    @Test("a custom id with requireSignedURLs=true is refused with 5410")
    func signedCustomID() throws {
        try withEmulator { server throws in
            let response = try server.upload(fields: [("id", "private/one"), ("requireSignedURLs", "true")])
            #expect(response.status == 400)
            #expect(response.errorCode == 5410)
            let generated = try server.upload(fields: [("requireSignedURLs", "true")])
            #expect(generated.status == 200)
            #expect(generated.result?["requireSignedURLs"] == .bool(true))
        }
    }

    @Test("bytes that are not an image are refused with 5455, whatever the file name says")
    func notAnImage() throws {
        try withEmulator { server throws in
            let response = try server.upload(Array("just some text".utf8), filename: "fake.jpg")
            #expect(response.status == 415)
            #expect(response.errorCode == 5455)
            #expect(try server.upload([], filename: "empty.png").errorCode == 5455)
            #expect(server.storedImages().isEmpty)
        }
    }

    @Test("every accepted format is recognised by its bytes")
    func acceptedFormats() throws {
        try withEmulator { server throws in
            let files: [[UInt8]] = [
                SampleImages.png(width: 3, height: 3), SampleImages.gif(width: 5, height: 5),
                SampleImages.jpegHeaderOnly(width: 40, height: 30, exifPadding: 70_000),
                SampleImages.webpHeaderOnly(width: 20_000, height: 100),
                Array(#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#.utf8),
            ]
            for file in files {
                #expect(try server.upload(file).status == 200)
            }
        }
    }

    @Test("images over 12,000 px a side or 100 megapixels are refused with 5400")
    func dimensionLimits() throws {
        try withEmulator { server throws in
            let tall = try server.upload(SampleImages.pngHeaderOnly(width: 100, height: 12_001))
            #expect(tall.status == 400)
            #expect(tall.errorCode == 5400)
            let wideJPEG = try server.upload(SampleImages.jpegHeaderOnly(width: 12_001, height: 10))
            #expect(wideJPEG.errorCode == 5400)
            let huge = try server.upload(SampleImages.webpHeaderOnly(width: 11_000, height: 11_000))
            #expect(huge.errorCode == 5400)
            #expect(try server.upload(SampleImages.pngHeaderOnly(width: 12_000, height: 8_000)).status == 200)
        }
    }

    @Test("a file over the size limit is refused with 413 and 5413, announced or streamed")
    func tooLarge() throws {
        try withEmulator({ $0.maxUploadBytes = 100_000 }) { server throws in
            let big = SampleImages.png(approximateBytes: 250_000, seed: 1)
            let announced = try server.upload(big)
            #expect(announced.status == 413)
            #expect(announced.errorCode == 5413)

            // Chunked: no Content-Length to judge by, so the limit is applied while the file part streams.
            var form = MultipartBody()
            form.addFile(big)
            let body = form.finished()
            let client = try server.client()
            var request = "POST \(server.imagesPath) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
            request += "Content-Type: \(form.contentType)\r\nTransfer-Encoding: chunked\r\n\r\n"
            client.send(request)
            var offset = 0
            while offset < body.count {
                let end = min(offset + 7000, body.count)
                client.send(Array((String(end - offset, radix: 16) + "\r\n").utf8) + body[offset..<end] + [13, 10])
                offset = end
            }
            client.send("0\r\n\r\n")
            let streamed = try client.readResponse()
            #expect(streamed.status == 413)
            #expect(streamed.errorCode == 5413)
            // The rest of the body was discarded and the connection still works.
            #expect(
                try client.request("GET", server.imagesPath + "/stats", headers: [("Authorization", "Bearer t")]).status
                    == 200)
            #expect(server.storedImages().isEmpty)
        }
    }

    @Test("a raw image body is refused with 415 and 5415")
    func rawBody() throws {
        try withEmulator { server throws in
            let response = try server.send(
                "POST", server.imagesPath,
                headers: [("Authorization", "Bearer t"), ("Content-Type", "image/png")],
                body: SampleImages.png(width: 2, height: 2))
            #expect(response.status == 415)
            #expect(response.errorCode == 5415)
        }
    }

    @Test("file and url are mutually exclusive, and one of them is required")
    func fileOrURL() throws {
        try withEmulator { server throws in
            let both = try server.upload(fields: [("url", "https://example.com/a.png")])
            #expect(both.status == 400 && both.errorCode == 5400)
            let neither = try server.upload(nil, fields: [("metadata", "{}")])
            #expect(neither.status == 400 && neither.errorCode == 5400)
        }
    }

    @Test("metadata must be a JSON object of at most 1024 bytes")
    func metadataRules() throws {
        try withEmulator { server throws in
            #expect(try server.upload(fields: [("metadata", "[1,2]")]).errorCode == 5400)
            #expect(try server.upload(fields: [("metadata", "{not json")]).errorCode == 5400)
            let long = #"{"k":""# + String(repeating: "x", count: 1020) + #""}"#
            #expect(try server.upload(fields: [("metadata", long)]).errorCode == 5400)
        }
    }

    @Test("the Python SDK's nested metadata parts are merged into one object")
    func nestedMetadataParts() throws {
        try withEmulator { server throws in
            let response = try server.upload(fields: [("metadata.source", "sdk"), ("metadata.region.name", "eu")])
            #expect(response.status == 200)
            #expect(
                response.result?["meta"]
                    == .object([
                        ("source", .string("sdk")), ("region", .object([("name", .string("eu"))])),
                    ]))
        }
    }
}
