import Glibc
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagesEmulator

/// The faults a soak needs beside the per-request ones: replies that arrive broken or late after the image was
/// stored, a token refused for a period that ends by itself, and a global limit changed while requests arrive.
@Suite("Timed and partial faults")
struct TimedFaultTests {
    private func admin(_ server: EmulatorServer, _ json: String) throws -> HTTPTestClient.Response {
        try server.send("PUT", "/__emulator/faults", headers: [], body: Array(json.utf8))
    }

    @Test("a cut reply sends half the body after storing the image")
    func cutReply() throws {
        try withEmulator { server throws in
            #expect(try admin(server, #"{"cutReplyProbability": 1}"#).status == 200)
            #expect(throws: HTTPTestClient.Failure.malformed("closed inside body")) {
                try server.upload(fields: [("id", "cut")])
            }
            #expect(server.storedImages().map(\.id) == ["cut"])
            let logged = server.requestLog()
            #expect(logged.map(\.fault) == ["cut-reply"] && logged.map(\.status) == [200])
        }
    }

    @Test("a slow reply arrives slowReplyMs late, and the image was stored before it")
    func slowReply() throws {
        try withEmulator { server throws in
            #expect(try admin(server, #"{"slowReplyProbability": 1, "slowReplyMs": 400}"#).status == 200)
            let start = Timestamp.monotonicNanos()
            let reply = try server.upload(fields: [("id", "slow")])
            #expect(reply.status == 200)
            #expect(Timestamp.monotonicNanos() - start >= 400_000_000)
            #expect(server.requestLog().map(\.fault) == ["slow-reply"])
        }
    }

    @Test("a slow reply past the client's patience: the image is stored while the reply waits")
    func slowReplyStoresFirst() throws {
        try withEmulator { server throws in
            _ = try admin(server, #"{"slowReplyProbability": 1, "slowReplyMs": 3000}"#)
            let client = try server.client()
            var form = MultipartBody()
            form.addFile(SampleImages.png(width: 8, height: 8))
            form.addField("id", "late")
            client.sendRequest(
                "POST", server.imagesPath,
                headers: [("Authorization", "Bearer \(testToken)"), ("Content-Type", form.contentType)],
                body: form.finished())
            // The client gives up long before the reply; the image is there all the same.
            #expect(eventually(within: 2) { server.storedImages().map(\.id) == ["late"] })
        }
    }

    @Test("refuseTokensForMs refuses tokens for that long, then accepts them without another call")
    func refusedForAWhile() throws {
        try withEmulator { server throws in
            #expect(try admin(server, #"{"refuseTokensForMs": 500}"#).status == 200)
            let refused = try server.upload()
            #expect(refused.status == 401 && refused.errorCode == 10000)
            #expect(server.requestLog().first?.fault == "refuse-tokens")
            let remaining = try server.send("GET", "/__emulator/faults", headers: []).json["refuseTokensRemainingMs"]
            #expect((remaining?.doubleValue ?? 0) > 0)
            // A later change of another key does not start the period again.
            _ = try admin(server, #"{"latencyMs": 0}"#)
            #expect(try eventually(within: 5) { try server.upload().status == 200 })
            #expect(try server.upload().status == 200)
        }
    }

    @Test("the global limit can be lowered to a short window at run time, and restored")
    func globalLimitOverride() throws {
        try withEmulator { server throws in
            let stats = server.imagesPath + "/stats"
            for _ in 0..<3 { #expect(try server.send("GET", stats).status == 200) }
            // Three requests are already held; a limit of 2 refuses until enough of them age out.
            #expect(try admin(server, #"{"rateLimitRequests": 2, "rateLimitWindowMs": 700}"#).status == 200)
            let refused = try server.send("GET", stats)
            #expect(refused.status == 429 && refused.errorCode == 971 && refused.header("retry-after") == "1")
            #expect(server.requestLog().last?.retryAfter == "1")
            #expect(try eventually(within: 5) { try server.send("GET", stats).status == 200 })
            #expect(try server.send("GET", stats).status == 200)
            #expect(try server.send("GET", stats).status == 429)
            _ = try admin(server, #"{"rateLimitRequests": null, "rateLimitWindowMs": null}"#)
            #expect(try server.send("GET", stats).status == 200)
            #expect(server.faults.rateLimitRequests == nil)
        }
    }
}
