import Testing

@testable import ImagesEmulator

@Suite("Global rate limit")
struct RateLimitTests {
    @Test("past the limit requests get 429 with 971 and Retry-After")
    func withRetryAfter() throws {
        try withEmulator({
            $0.rateLimitRequests = 3
            $0.rateLimitWindowSeconds = 60
        }) { server throws in
            let client = try server.client()
            let auth = [("Authorization", "Bearer \(testToken)")]
            for _ in 0..<3 {
                #expect(try client.request("GET", server.imagesPath + "/stats", headers: auth).status == 200)
            }
            let limited = try client.request("GET", server.imagesPath + "/stats", headers: auth)
            #expect(limited.status == 429)
            #expect(limited.errorCode == 971)
            let retryAfter = try #require(limited.header("retry-after").flatMap(Int.init))
            #expect((59...60).contains(retryAfter))
            // Another token has its own window.
            #expect(
                try client.request("GET", server.imagesPath + "/stats", headers: [("Authorization", "Bearer other")])
                    .status == 200)
        }
    }

    @Test("without Retry-After when configured so")
    func withoutRetryAfter() throws {
        try withEmulator({
            $0.rateLimitRequests = 1
            $0.rateLimitRetryAfter = false
        }) { server throws in
            #expect(try server.send("GET", server.imagesPath + "/stats").status == 200)
            let limited = try server.send("GET", server.imagesPath + "/stats")
            #expect(limited.status == 429)
            #expect(limited.errorCode == 971)
            #expect(limited.header("retry-after") == nil)
        }
    }

    @Test("refused requests do not extend the window")
    func refusalsDoNotCount() {
        let limiter = SlidingWindowLimiter(limit: 2, windowSeconds: 10)
        let second: UInt64 = 1_000_000_000
        #expect(limiter.admit("k", nowNanos: 0) == .accepted)
        #expect(limiter.admit("k", nowNanos: 1 * second) == .accepted)
        #expect(limiter.admit("k", nowNanos: 2 * second) == .refused(retryAfterSeconds: 8))
        #expect(limiter.admit("k", nowNanos: 9 * second + 1) == .refused(retryAfterSeconds: 1))
        #expect(limiter.admit("k", nowNanos: 10 * second) == .accepted)
        #expect(limiter.admit("k", nowNanos: 10 * second + 1) == .refused(retryAfterSeconds: 1))
        #expect(limiter.admit("k", nowNanos: 11 * second) == .accepted)
    }

    @Test("zero means unlimited")
    func unlimited() {
        let limiter = SlidingWindowLimiter(limit: 0, windowSeconds: 1)
        #expect((0..<10_000).allSatisfy { limiter.admit("k", nowNanos: UInt64($0)) == .accepted })
    }

    @Test("every counted reply says what is left: r more within t s, t being when the oldest counted ages out")
    func quotaHeader() throws {
        let limiter = SlidingWindowLimiter(limit: 3, windowSeconds: 10)
        let second: UInt64 = 1_000_000_000
        let window = 10 * second
        var result = limiter.admitCounting("k", nowNanos: 0, limit: 3, windowNanos: window)
        #expect(result.quota == .init(remaining: 2, resetSeconds: 10))
        result = limiter.admitCounting("k", nowNanos: 4 * second, limit: 3, windowNanos: window)
        // No slot frees before the oldest (at 0 s) ages out, 6 s on: that long, r is exactly what is left.
        #expect(result.quota == .init(remaining: 1, resetSeconds: 6))
        result = limiter.admitCounting("k", nowNanos: 5 * second, limit: 3, windowNanos: window)
        #expect(result.quota == .init(remaining: 0, resetSeconds: 5))
        result = limiter.admitCounting("k", nowNanos: 6 * second + 1, limit: 3, windowNanos: window)
        #expect(result.decision == .refused(retryAfterSeconds: 4))
        // Refused: nothing more until the oldest (at 0 s) ages out, 4 s on, rounded up.
        #expect(result.quota?.headerValue == "\"default\";r=0;t=4")
        #expect(limiter.admitCounting("k", nowNanos: 0, limit: 0, windowNanos: window).quota == nil)

        try withEmulator({
            $0.rateLimitRequests = 2
            $0.rateLimitWindowSeconds = 60
        }) { server throws in
            #expect(try server.send("GET", server.imagesPath + "/stats").header("ratelimit") == "\"default\";r=1;t=60")
            #expect(try server.send("GET", server.imagesPath + "/stats").header("ratelimit") == "\"default\";r=0;t=60")
            let limited = try server.send("GET", server.imagesPath + "/stats")
            #expect(limited.status == 429)
            #expect(limited.header("ratelimit")?.hasPrefix("\"default\";r=0;t=") == true)
        }
    }
}
