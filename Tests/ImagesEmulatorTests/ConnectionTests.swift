import Foundation
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagesEmulator

@Suite("HTTP connections")
struct ConnectionTests {
    @Test("several requests share one keep-alive connection, pipelined too")
    func keepAlive() throws {
        try withEmulator { server throws in
            let client = try server.client()
            let auth = [("Authorization", "Bearer t")]
            for _ in 0..<3 {
                #expect(try client.request("GET", server.imagesPath + "/stats", headers: auth).status == 200)
            }
            var form = MultipartBody()
            form.addFile(SampleImages.png(width: 2, height: 2))
            #expect(
                try client.request(
                    "POST", server.imagesPath, headers: auth + [("Content-Type", form.contentType)],
                    body: form.finished()
                ).status == 200)
            // Two requests written back to back are answered in order.
            client.sendRequest("GET", server.imagesPath + "/stats", headers: auth)
            client.sendRequest("GET", server.imagesPath + "/missing", headers: auth)
            #expect(try client.readResponse().status == 200)
            #expect(try client.readResponse().status == 404)
        }
    }

    @Test("Expect: 100-continue gets 100 Continue before the body")
    func expectContinue() throws {
        try withEmulator { server throws in
            var form = MultipartBody()
            form.addFile(SampleImages.png(width: 5, height: 5))
            let body = form.finished()
            let client = try server.client()
            client.sendRequest(
                "POST", server.imagesPath,
                headers: [
                    ("Authorization", "Bearer t"), ("Content-Type", form.contentType),
                    ("Content-Length", String(body.count)), ("Expect", "100-continue"),
                ],
                body: body, sendBody: false)
            #expect(try client.readResponse().status == 100)
            client.send(body)
            #expect(try client.readResponse().status == 200)
        }
    }

    @Test("Expect: 100-continue with a body too large gets the final 413 without sending it")
    func expectContinueRefused() throws {
        try withEmulator { server throws in
            let client = try server.client()
            client.sendRequest(
                "POST", server.imagesPath,
                headers: [
                    ("Authorization", "Bearer t"), ("Content-Type", "multipart/form-data; boundary=x"),
                    ("Content-Length", "50000000"), ("Expect", "100-continue"),
                ],
                sendBody: false)
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.errorCode == 5413)
            #expect(response.header("connection") == "close")
            #expect(client.isClosedByPeer())
        }
    }

    @Test("curl -F file=@x.png works exactly as the upload page's example")
    func curlExample() throws {
        try withEmulator({ $0.tokens = [testToken] }) { server throws in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "emu-curl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let png = SampleImages.png(width: 10, height: 10)
            try Data(png).write(to: directory.appendingPathComponent("x.png"))

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.currentDirectoryURL = directory
            process.arguments = [
                "--silent", "--request", "POST", server.apiBaseURL + "/accounts/\(testAccount)/images/v1",
                "--header", "Authorization: Bearer \(testToken)", "--form", "file=@./x.png",
            ]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let json = try JSONValue.parse(Array(data))
            #expect(json["success"] == .bool(true))
            #expect(json["result"]?["filename"] == .string("x.png"))
            #expect(server.storedImages().first?.sha256 == SHA256Hasher.hex(of: png))
        }
    }
}
