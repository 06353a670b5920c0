import ImagedropParsing
import Testing

@testable import ImagedropPipeline

/// Issue 9 item 3: every server hint is parsed with bounds. Before the fix `Retry-After: 20000000000`,
/// `inf` or `1e400` trapped (Double → Int64 conversion, then milliseconds × 10^6 in the rate limiter).
@Suite("Retry-After bounds", .serialized)
struct RetryAfterTests {
    let now: Int64 = 1_764_000_000_000  // 2025-11-24, a fixed "now" for the date forms

    @Test("absurd numbers saturate at the ceiling; inf, nan, exponents, signs and hex are no hint")
    func absurdNumbers() {
        let ceiling = RetryAfter.ceilingMillis
        for huge in ["20000000000", "99999999999999999999999999999999", "9223372036854775807", "9223372036854775808"] {
            #expect(RetryAfter.parse(["retry-after": huge], nowMillis: now) == ceiling, "\(huge)")
            #expect(
                RetryAfter.parse(["retry-after-ms": huge], nowMillis: now) == min(ceiling, Int64(huge) ?? ceiling),
                "ms \(huge)")
        }
        for garbage in [
            "inf", "-inf", "infinity", "nan", "NaN", "1e400", "1e3", "-1", "-0.5", "+5", "0x10", "5 s",
            "1.", ".5", "", " ", "½", "٣", "1,5",
        ] {
            #expect(RetryAfter.parse(["retry-after": garbage], nowMillis: now) == nil, "\(garbage)")
            #expect(RetryAfter.parse(["retry-after-ms": garbage], nowMillis: now) == nil, "ms \(garbage)")
        }
    }

    @Test("well-formed hints: seconds, fractions rounded up, milliseconds, surrounding spaces")
    func wellFormed() {
        #expect(RetryAfter.parse(["retry-after": "7"], nowMillis: now) == 7000)
        #expect(RetryAfter.parse(["retry-after": " 2 "], nowMillis: now) == 2000)
        #expect(RetryAfter.parse(["retry-after": "0.5"], nowMillis: now) == 500)
        #expect(RetryAfter.parse(["retry-after": "0.0001"], nowMillis: now) == 1)
        #expect(RetryAfter.parse(["retry-after": "0"], nowMillis: now) == 0)
        #expect(RetryAfter.parse(["retry-after-ms": "1500"], nowMillis: now) == 1500)
        #expect(RetryAfter.parse(["retry-after-ms": "1.2"], nowMillis: now) == 2)
        // retry-after-ms wins; a garbage retry-after-ms falls back to retry-after.
        #expect(RetryAfter.parse(["retry-after-ms": "300", "retry-after": "9"], nowMillis: now) == 300)
        #expect(RetryAfter.parse(["retry-after-ms": "inf", "retry-after": "9"], nowMillis: now) == 9000)
    }

    @Test("dates: past is zero, year 9999 saturates at the ceiling, malformed is no hint")
    func dates() {
        #expect(RetryAfter.parse(["retry-after": "Sun, 06 Nov 1994 08:49:37 GMT"], nowMillis: now) == 0)
        #expect(
            RetryAfter.parse(["retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"], nowMillis: now)
                == RetryAfter.ceilingMillis)
        #expect(RetryAfter.parse(["retry-after": "Mon, 24 Nov 2025 16:00:30 GMT"], nowMillis: now) == 30_000)
        #expect(RetryAfter.parse(["retry-after": "Mon, 99 Nov 2025 16:00:30 GMT"], nowMillis: now) == nil)
    }

    @Test("the policy caps every hint at backoff_max_ms and says when it did; the pool block is capped too")
    func policyCaps() {
        let policy = RetryPolicy(initialMillis: 50, maxMillis: 2000, maxAttempts: 3)
        for text in ["20000000000", "Fri, 31 Dec 9999 23:59:59 GMT"] {
            let hint = RetryAfter.parse(["retry-after": text], nowMillis: now)
            #expect(policy.capsHint(hint))
            #expect(policy.delayMillis(attemptsMade: 1, retryAfterMillis: hint, rateLimited: true) == 2000)
            #expect(policy.rateLimitBlockMillis(retryAfterMillis: hint) == 2000)
        }
        #expect(!policy.capsHint(1500))
        #expect(!policy.capsHint(nil))
        // The limiter's block is saturating whatever it is given.
        let limiter = RateLimiter(limit: 0)
        limiter.block(forMillis: Int64.max)
        #expect(limiter.blockedRemainingMillis > 1_000_000_000)
    }
}

@Suite("HTTP dates")
struct HTTPDateTests {
    @Test(
        "IMF-fixdate read by hand: epoch, leap days, 9999; wrong days, months, zones and the obsolete forms are no date"
    )
    func imfFixdate() {
        #expect(HTTPDate.epochMillis("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.epochMillis("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777_000)
        #expect(HTTPDate.epochMillis("Tue, 29 Feb 2000 12:00:00 GMT") == 951_825_600_000)
        // Found by the retry-after fuzz target: Foundation's DateFormatter trapped ("Incorrect range CFRange") on
        // this header, so one 429 or 503 through a proxy that mangled its Retry-After crashed the daemon.
        let mangled = String(
            decoding: [
                0x46, 0x72, 0x69, 0x2C, 0x20, 0x33, 0x31, 0xDC, 0xBB, 0x9A, 0xC6, 0xC6, 0x9C, 0xDF,
                0xC6, 0x39, 0x20, 0x32, 0x33, 0x3A, 0x35, 0x39, 0x3A, 0x35, 0x39, 0x20, 0x47, 0x4D, 0x54,
            ],
            as: UTF8.self)
        #expect(HTTPDate.epochMillis(mangled) == nil)
        #expect(RetryAfter.parse(["retry-after": mangled], nowMillis: 0) == nil)
        #expect(HTTPDate.epochMillis("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799_000)
        for text in [
            "Fri, 29 Feb 2001 12:00:00 GMT", "Mon, 99 Nov 2025 16:00:30 GMT", "Mon, 24 Foo 2025 16:00:30 GMT",
            "Mon, 24 Nov 2025 24:00:00 GMT", "Mon, 24 Nov 2025 16:00:30 UTC", "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994", "Mon, 24 Nov 2025 16:00:30 GMT ", "", "Mon, +4 Nov 2025 16:00:30 GMT",
        ] {
            #expect(HTTPDate.epochMillis(text) == nil, "\(text)")
        }
    }
}
