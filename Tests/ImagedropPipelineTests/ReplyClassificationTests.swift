import CCurl
import Foundation
import ImagedropParsing
import Testing

@testable import ImagedropPipeline
@testable import ImagedropSystem

/// Every row of DESIGN.md's table "How an API reply is treated", through ReplyClassification.classify.
@Suite("Reply classification", .serialized)
struct ReplyClassificationTests {
    static func reply(
        _ status: Int, code: Int? = nil, message: String = "message", success: Bool? = nil,
        headers: [String: String] = [:]
    ) -> HTTPResponse {
        var body = "{\"success\":\(success ?? (status == 200)),\"errors\":["
        if let code { body += "{\"code\":\(code),\"message\":\"\(message)\"}" }
        body += "],\"messages\":[],\"result\":" + (status == 200 ? "{\"id\":\"x\"}" : "null") + "}"
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    static func classify(
        _ status: Int, code: Int? = nil, success: Bool? = nil, headers: [String: String] = [:]
    )
        -> ReplyClassification
    {
        ReplyClassification.classify(reply(status, code: code, success: success, headers: headers))
    }

    @Test("200 with success true is stored; 200 without a successful envelope is transient")
    func success() {
        #expect(Self.classify(200) == .success)
        guard case .transient = Self.classify(200, success: false) else {
            Issue.record("200/false")
            return
        }
    }

    @Test("409, or code 5409 under any status, means the custom id already exists")
    func alreadyExists() {
        #expect(Self.classify(409) == .alreadyExists)
        #expect(Self.classify(409, code: 5409) == .alreadyExists)
        #expect(Self.classify(400, code: 5409) == .alreadyExists)
    }

    @Test("408, 5xx and 1xx/0 (no reply) are transient and not rate limited")
    func transientStatuses() {
        for status in [408, 500, 502, 503, 504, 0] {
            guard
                case .transient(_, _, let retryAfter, let limited) = Self.classify(
                    status, code: status == 0 ? nil : 5500)
            else {
                Issue.record("\(status) not transient")
                continue
            }
            #expect(!limited, "\(status)")
            #expect(retryAfter == nil, "\(status)")
        }
    }

    @Test("401/403 with 10000, 9109, 5403, 9103 and 400 with 6003, 6111, 9103, 9106 pause the queue")
    func credentials() {
        for (status, code) in [
            (401, 10000), (403, 9109), (403, 5403), (401, nil), (403, nil),
            (400, 6003), (400, 6111), (400, 9106), (400, 9103), (403, 9103),
        ] as [(Int, Int?)] {
            guard case .credentials(_, let got) = Self.classify(status, code: code) else {
                Issue.record("\(status)/\(code ?? -1) not credentials")
                continue
            }
            #expect(got == code)
        }
    }

    @Test("code 5453 (image quota) under any 4xx but 429 pauses for the quota with Cloudflare's message")
    func quota() {
        let message =
            "The given account has reached a service limit (0). Upgrade your plan to increase your service limit."
        for status in [400, 403, 401, 413] {
            let reply = Self.reply(status, code: 5453, message: message)
            #expect(ReplyClassification.classify(reply) == .quota(reason: message, code: 5453), "\(status)")
        }
        guard case .transient(_, _, _, true) = Self.classify(429, code: 5453) else {
            Issue.record("429 stays rate limited")
            return
        }
        guard case .transient = Self.classify(503, code: 5453) else {
            Issue.record("5xx stays transient")
            return
        }
        // Without a message the reason is the usual description.
        let bare = HTTPResponse(
            status: 400, headers: [:], body: Array(#"{"success":false,"errors":[{"code":5453}]}"#.utf8))
        #expect(ReplyClassification.classify(bare) == .quota(reason: "HTTP 400, code 5453", code: 5453))
    }

    @Test("other 4xx are permanent with their code: 5400, 5410, 5411, 413/5413, 415/5415, 415/5455")
    func permanent() {
        for (status, code) in [
            (400, 5400), (400, 5410), (400, 5411), (413, 5413), (415, 5415), (415, 5455),
            (404, 5404), (422, nil), (422, 5454), (400, 5454), (413, 7011),
        ] as [(Int, Int?)] {
            guard case .permanent(let reason, let got) = Self.classify(status, code: code) else {
                Issue.record("\(status)/\(code ?? -1) not permanent")
                continue
            }
            #expect(got == code)
            #expect(reason.contains("HTTP \(status)"))
            if let code { #expect(reason.contains("code \(code)"), "\(reason)") }
        }
        guard case .permanent(let reason, _) = Self.classify(302) else {
            Issue.record("302")
            return
        }
        #expect(reason.contains("redirect"))
    }

    @Test("429 is transient and rate limited; Retry-After seconds, HTTP date and retry-after-ms are honoured")
    func rateLimited() {
        guard case .transient(_, let code, let none, let limited) = Self.classify(429, code: 971) else {
            Issue.record("429")
            return
        }
        #expect(limited)
        #expect(code == 971)
        #expect(none == nil)

        guard case .transient(_, _, let seconds, _) = Self.classify(429, code: 971, headers: ["retry-after": "7"])
        else {
            Issue.record("429 seconds")
            return
        }
        #expect(seconds == 7000)

        guard
            case .transient(_, _, let millis, _) = Self.classify(
                429, code: 971, headers: ["retry-after-ms": "1500", "retry-after": "9"])
        else {
            Issue.record("429 ms")
            return
        }
        #expect(millis == 1500)

        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = formatter.string(from: Date().addingTimeInterval(30))
        guard case .transient(_, _, let fromDate, _) = Self.classify(429, code: 971, headers: ["retry-after": date])
        else {
            Issue.record("429 date")
            return
        }
        print("Retry-After '\(date)' -> \(fromDate ?? -1) ms")
        #expect(fromDate != nil && fromDate! > 28_000 && fromDate! <= 30_000)

        // A 503 with Retry-After carries the hint too (not rate limited).
        guard
            case .transient(_, _, let hint, let limited503) = Self.classify(
                503, code: 5503, headers: ["retry-after": "2"])
        else {
            Issue.record("503")
            return
        }
        #expect(hint == 2000 && !limited503)
    }

    @Test("RetryAfter.parse: garbage and negative values are no hint; a date in the past is zero")
    func retryAfterParsing() {
        #expect(RetryAfter.parse(["retry-after": "soon"]) == nil)
        #expect(RetryAfter.parse(["retry-after": "-3"]) == nil)
        #expect(RetryAfter.parse([:]) == nil)
        #expect(RetryAfter.parse(["retry-after": "Sun, 06 Nov 1994 08:49:37 GMT"]) == 0)
        #expect(RetryAfter.parse(["retry-after": "0.5"]) == 500)
    }

    @Test("curl failures: path to the API (pause), TLS (pause), transport (per job), local, programming (permanent)")
    func curlKinds() {
        let kinds: [(CURLcode, CurlError.Kind)] = [
            (CURLE_COULDNT_CONNECT, .unreachable), (CURLE_COULDNT_RESOLVE_HOST, .unreachable),
            (CURLE_COULDNT_RESOLVE_PROXY, .unreachable), (CURLE_PROXY, .unreachable),
            (CURLE_PEER_FAILED_VERIFICATION, .tls), (CURLE_SSL_CONNECT_ERROR, .tls), (CURLE_SSL_CACERT_BADFILE, .tls),
            (CURLE_OPERATION_TIMEDOUT, .transport), (CURLE_SEND_ERROR, .transport), (CURLE_RECV_ERROR, .transport),
            (CURLE_GOT_NOTHING, .transport), (CURLE_SEND_FAIL_REWIND, .transport), (CURLE_PARTIAL_FILE, .transport),
            (CURLE_READ_ERROR, .local), (CURLE_ABORTED_BY_CALLBACK, .local),
            (CURLE_BAD_FUNCTION_ARGUMENT, .programming), (CURLE_OUT_OF_MEMORY, .programming),
            (CURLE_UNKNOWN_OPTION, .programming), (CURLE_URL_MALFORMAT, .programming),
        ]
        for (code, kind) in kinds {
            #expect(CurlError(code).kind == kind, "curl \(code.rawValue)")
        }
        #expect(CurlError(CURLE_PEER_FAILED_VERIFICATION).pauseReason.hasPrefix("TLS: curl error 60"))
        #expect(CurlError(CURLE_COULDNT_CONNECT).pauseReason.hasPrefix("API unreachable: curl error 7"))
        guard case .permanent(let reason, nil) = ReplyClassification.classify(CurlError(CURLE_BAD_FUNCTION_ARGUMENT))
        else {
            Issue.record("programming errors are permanent")
            return
        }
        #expect(reason.contains("internal error"))
        guard case .transient(_, nil, nil, false) = ReplyClassification.classify(CurlError(CURLE_OPERATION_TIMEDOUT))
        else {
            Issue.record("timeouts are transient")
            return
        }
    }
}
