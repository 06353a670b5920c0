import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagesEmulator

@Suite("Fault injection")
struct FaultTests {
    private func faults(_ change: (inout FaultConfiguration) -> Void) -> FaultConfiguration {
        var faults = FaultConfiguration()
        change(&faults)
        return faults
    }

    @Test("server errors are 500, 502 or 503 with 5500/5503 bodies and store nothing")
    func serverErrors() throws {
        try withEmulator { server throws in
            server.setFaults(faults { $0.serverErrorProbability = 1 })
            var statuses = Set<Int>()
            for _ in 0..<30 {
                let response = try server.upload()
                statuses.insert(response.status)
                #expect([5500, 5503].contains(response.errorCode ?? 0))
            }
            #expect(statuses.isSubset(of: [500, 502, 503]) && statuses.count > 1)
            #expect(server.storedImages().isEmpty)
            #expect(server.requestLog().allSatisfy { $0.fault == "server-error" })
        }
    }

    @Test("injected 429s carry the chosen Retry-After, or none")
    func injectedRateLimit() throws {
        try withEmulator { server throws in
            server.setFaults(
                faults {
                    $0.rateLimitProbability = 1
                    $0.retryAfterSeconds = 7
                })
            let with = try server.send("GET", server.imagesPath + "/stats")
            #expect(with.status == 429 && with.errorCode == 971 && with.header("retry-after") == "7")
            server.setFaults(faults { $0.rateLimitProbability = 1 })
            let without = try server.send("GET", server.imagesPath + "/stats")
            #expect(without.status == 429 && without.header("retry-after") == nil)
        }
    }

    @Test("raw hint headers go out verbatim with injected 429s and 5xx; the admin route refuses CR/LF")
    func rawHintHeaders() throws {
        try withEmulator { server throws in
            server.setFaults(
                faults {
                    $0.rateLimitProbability = 1
                    $0.retryAfterSeconds = 7
                    $0.retryAfterHeader = "Fri, 31 Dec 9999 23:59:59 GMT"
                    $0.retryAfterMsHeader = "1e400"
                })
            let limited = try server.send("GET", server.imagesPath + "/stats")
            #expect(limited.status == 429 && limited.header("retry-after") == "Fri, 31 Dec 9999 23:59:59 GMT")
            #expect(limited.header("retry-after-ms") == "1e400")
            server.setFaults(
                faults {
                    $0.serverErrorProbability = 1
                    $0.retryAfterHeader = "inf"
                })
            let failed = try server.send("GET", server.imagesPath + "/stats")
            #expect(
                failed.status >= 500 && failed.header("retry-after") == "inf" && failed.header("retry-after-ms") == nil)
            let merged = AdminAPI.merge(
                Array(#"{"retryAfterHeader": "1\r\nx-injected: 1"}"#.utf8), into: FaultConfiguration())
            guard case .failure = merged else {
                Issue.record("CR/LF accepted")
                return
            }
            guard
                case .success(let cleared) = AdminAPI.merge(
                    Array(#"{"retryAfterHeader": null}"#.utf8), into: server.faults)
            else {
                Issue.record("null refused")
                return
            }
            #expect(cleared.retryAfterHeader == nil)
        }
    }

    @Test("close before reply drops the connection and stores nothing")
    func closeBeforeReply() throws {
        try withEmulator { server throws in
            server.setFaults(faults { $0.closeBeforeReplyProbability = 1 })
            #expect(throws: HTTPTestClient.Failure.closedWithoutReply) { try server.upload(fields: [("id", "lost")]) }
            #expect(server.storedImages().isEmpty)
            #expect(server.requestLog().map(\.status) == [0])
            #expect(server.requestLog().first?.fault == "close-before-reply")
        }
    }

    @Test("close after store keeps the image although the client saw no reply")
    func closeAfterStore() throws {
        try withEmulator { server throws in
            server.setFaults(faults { $0.closeAfterStoreProbability = 1 })
            #expect(throws: HTTPTestClient.Failure.closedWithoutReply) { try server.upload(fields: [("id", "kept")]) }
            server.setFaults(FaultConfiguration())
            #expect(server.storedImages().map(\.id) == ["kept"])
            #expect(try server.upload(fields: [("id", "kept")]).errorCode == 5409)
        }
    }

    @Test("the first K attempts of each distinct file get a 503")
    func failFirst() throws {
        try withEmulator { server throws in
            server.setFaults(faults { $0.failFirstAttempts = 2 })
            let a = SampleImages.png(width: 4, height: 4, seed: 1)
            let b = SampleImages.png(width: 4, height: 4, seed: 2)
            #expect(try server.upload(a).status == 503)
            #expect(try server.upload(b).status == 503)
            #expect(try server.upload(a).status == 503)
            #expect(try server.upload(a).status == 200)
            #expect(try server.upload(b).status == 503)
            #expect(try server.upload(b).status == 200)
            #expect(server.requestLog().filter { $0.fault == "fail-first" }.count == 4)
        }
    }

    @Test("refused tokens answer 401 with 10000 until the fault is cleared")
    func refuseTokens() throws {
        try withEmulator { server throws in
            server.setFaults(faults { $0.refuseTokens = true })
            let refused = try server.upload()
            #expect(refused.status == 401 && refused.errorCode == 10000)
            server.setFaults(FaultConfiguration())
            #expect(try server.upload().status == 200)
        }
    }

    @Test("latency delays every API reply")
    func latency() throws {
        try withEmulator { server throws in
            server.setFaults(faults { $0.latencyMs = 150 })
            let start = Timestamp.monotonicNanos()
            #expect(try server.send("GET", server.imagesPath + "/stats").status == 200)
            #expect(Timestamp.monotonicNanos() - start >= 150_000_000)
        }
    }

    @Test("the same seed replays the same faults")
    func reproducible() throws {
        try withEmulator { server throws in
            let config = faults {
                $0.seed = 42
                $0.serverErrorProbability = 0.3
                $0.rateLimitProbability = 0.3
            }
            func run() throws -> [Int] {
                server.setFaults(config)
                return try (0..<20).map { _ in try server.send("GET", server.imagesPath + "/stats").status }
            }
            let first = try run()
            #expect(try run() == first)
            #expect(Set(first).count > 1)
        }
    }

    @Test("the admin route reads, merges and resets")
    func adminRoutes() throws {
        try withEmulator { server throws in
            let put = try server.send(
                "PUT", "/__emulator/faults", headers: [], body: Array(#"{"latencyMs":3,"retryAfterSeconds":9}"#.utf8))
            #expect(put.status == 200)
            #expect(server.faults.latencyMs == 3 && server.faults.retryAfterSeconds == 9)
            _ = try server.send("PUT", "/__emulator/faults", headers: [], body: Array(#"{"failFirstAttempts":1}"#.utf8))
            #expect(server.faults.latencyMs == 3 && server.faults.failFirstAttempts == 1)
            let get = try server.send("GET", "/__emulator/faults", headers: [])
            #expect(get.json["failFirstAttempts"] == .number("1"))
            #expect(
                try server.send("PUT", "/__emulator/faults", headers: [], body: Array(#"{"bogus":1}"#.utf8)).status
                    == 400)

            server.setFaults(FaultConfiguration())
            #expect(try server.upload(fields: [("id", "logged")]).status == 200)
            let log = try server.send("GET", "/__emulator/log", headers: [])
            guard case .array(let requests) = log.json["requests"] ?? .null,
                case .array(let images) = log.json["images"] ?? .null
            else {
                Issue.record("bad log \(log.text)")
                return
            }
            #expect(requests.count == 1)
            #expect(images.first?["id"] == .string("logged"))
            #expect(images.first?["sha256"]?.stringValue?.count == 64)
            #expect(try server.send("POST", "/__emulator/reset", headers: []).status == 200)
            #expect(server.storedImages().isEmpty && server.requestLog().isEmpty)
        }
    }

    @Test(
        "the seed route with files: each image's sha256 is that of its source_path's bytes (the number and a newline), the id the prefix and that digest"
    )
    func seedForFiles() throws {
        try withEmulator { server throws in
            let seeded = try server.send(
                "POST", "/__emulator/seed", headers: [],
                body: Array(#"{"count": 3, "idPrefix": "drop/", "files": true}"#.utf8))
            #expect(seeded.status == 200 && seeded.json["seeded"] == .number("3"), "\(seeded.text)")
            let images = server.storedImages().sorted { $0.metaJSON < $1.metaJSON }
            #expect(images.count == 3)
            for number in 1...3 {
                let digest = SHA256Hasher.hex(of: Array("\(number)\n".utf8))
                let path = "0000000\(number).png"
                #expect(
                    images.contains {
                        $0.id == "drop/" + digest && $0.metaJSON.contains(digest) && $0.metaJSON.contains(path)
                    },
                    "\(images.map(\.metaJSON))")
            }
        }
    }
}
