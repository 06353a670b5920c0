import Testing

@testable import ImagesEmulator

@Suite("Batch tokens")
struct BatchTokenTests {
    private func mint(_ server: EmulatorServer) throws -> String {
        let response = try server.send("GET", server.imagesPath + "/batch_token")
        #expect(response.status == 200)
        #expect(response.result?["expiresAt"]?.stringValue?.hasSuffix("Z") == true)
        return try #require(response.result?["token"]?.stringValue)
    }

    @Test("a batch token authorises the batch host's paths, not the API token")
    func flow() throws {
        try withEmulator({ $0.rateLimitRequests = 2 }) { server throws in
            let token = try mint(server)
            // Batch requests do not count against the global limit (2 here).
            for index in 0..<5 {
                #expect(
                    try server.upload(fields: [("id", "batch/\(index)")], token: token, path: "/images/v1").status
                        == 200)
            }
            let auth = [("Authorization", "Bearer \(token)")]
            #expect(try server.send("GET", "/images/v1/batch%2F1", headers: auth).status == 200)
            #expect(try server.send("DELETE", "/images/v1/batch/1", headers: auth).status == 200)
            let list = try server.send("GET", "/images/v2?per_page=10", headers: auth)
            guard case .array(let images) = list.result?["images"] ?? .null else {
                Issue.record("no images in \(list.text)")
                return
            }
            #expect(images.count == 4)
            #expect(try server.send("GET", "/images/v1/batch/2").status == 401)
            #expect(try server.send("GET", "/images/v1/batch/2", headers: []).errorCode == 9106)
        }
    }

    @Test("each batch token is limited per second, with 429 and 971 past it")
    func perTokenLimit() throws {
        try withEmulator({ $0.batchTokenRequestsPerSecond = 3 }) { server throws in
            let token = try mint(server)
            let auth = [("Authorization", "Bearer \(token)")]
            let client = try server.client()
            let statuses = try (0..<5).map { _ in try client.request("GET", "/images/v2", headers: auth).status }
            #expect(statuses.filter { $0 == 200 }.count == 3)
            let limited = try client.request("GET", "/images/v2", headers: auth)
            #expect(limited.status == 429)
            #expect(limited.errorCode == 971)
            #expect(limited.header("retry-after") == "1")
            let other = try mint(server)
            #expect(try server.send("GET", "/images/v2", headers: [("Authorization", "Bearer \(other)")]).status == 200)
        }
    }

    @Test("an expired batch token answers 401")
    func expiry() throws {
        try withEmulator({ $0.batchTokenLifetimeSeconds = 0 }) { server throws in
            let token = try mint(server)
            let response = try server.send("GET", "/images/v2", headers: [("Authorization", "Bearer \(token)")])
            #expect(response.status == 401)
            #expect(response.errorCode == 10000)
        }
    }
}
