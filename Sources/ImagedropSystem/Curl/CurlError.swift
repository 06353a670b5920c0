import CCurl

/// A libcurl failure: the CURLcode, curl's own text for it, and the detail from the error buffer.
package struct CurlError: Error, CustomStringConvertible, Sendable {
    package let code: Int
    package let message: String

    package init(_ code: CURLcode, detail: String = "") {
        self.code = Int(code.rawValue)
        let text = String(cString: curl_easy_strerror(code))
        self.message = detail.isEmpty ? text : "\(text): \(detail)"
    }

    package var description: String { "curl error \(code): \(message)" }

    /// What a failure is about — the one table of curl codes (ReplyClassification and APIPathMonitor act on it).
    package enum Kind: Sendable, Equatable {
        /// The API cannot be reached at all (no route, no name, nothing listening, proxy gone): not about
        /// the file. The queue pauses; no job's attempt is counted.
        case unreachable
        /// TLS refused: the certificate is not trusted (a proxy's CA missing: `cloudflare.ca_file`), the
        /// handshake failed, or the CA bundle is unreadable. Not about the file either: pause.
        case tls
        /// The request may have gone out and no usable reply came back (timeout, connection reset, empty
        /// reply). Usually about this request — a huge upload on a slow link times out on its own — so it is
        /// retried per job; when many in a row fail like this with no reply at all, it is an outage.
        case transport
        /// This upload's own body failed (the file could not be read, or changed, while it was sent), or the
        /// daemon cut the transfer at the end of its grace period: per job, never a sign of an outage.
        case local
        /// libcurl refused what imagedrop asked of it (bad argument, unknown option, out of memory, a
        /// feature not built in): a bug or a broken installation, permanent, logged loudly.
        case programming
    }

    package var kind: Kind {
        let value = CURLcode(UInt32(truncatingIfNeeded: code))
        switch value {
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_PROXY,
            CURLE_INTERFACE_FAILED, CURLE_QUIC_CONNECT_ERROR:
            return .unreachable
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_USE_SSL_FAILED, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CLIENTCERT:
            return .tls
        case CURLE_READ_ERROR, CURLE_ABORTED_BY_CALLBACK:
            return .local
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_FAILED_INIT, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN,
            CURLE_OUT_OF_MEMORY, CURLE_FUNCTION_NOT_FOUND, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION,
            CURLE_SETOPT_OPTION_SYNTAX, CURLE_BAD_CONTENT_ENCODING:
            return .programming
        default:
            // OPERATION_TIMEDOUT, SEND_ERROR, RECV_ERROR, GOT_NOTHING, PARTIAL_FILE, WEIRD_SERVER_REPLY,
            // HTTP2(_STREAM), SEND_FAIL_REWIND, WRITE_ERROR (a reply over the size bound), and any code
            // a newer libcurl adds: transient, as the table in DESIGN.md says of connection errors.
            return .transport
        }
    }

    /// The reason shown in the log and by `status` when this failure pauses the queue.
    package var pauseReason: String {
        kind == .tls ? "TLS: \(description)" : "API unreachable: \(description)"
    }
}
