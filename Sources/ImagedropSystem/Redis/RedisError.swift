import CHiredis

/// A failed Redis exchange: hiredis's own error code and message (`redisContext.err`/`errstr`), or the server's
/// error reply. Callers classify by `code`, never by the text; only a missing function is told by its reply's
/// first word, because Redis has no other way of saying so.
package struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    package struct Code: RawRepresentable, Hashable, Sendable {
        package let rawValue: Int32
        package init(rawValue: Int32) { self.rawValue = rawValue }

        /// Connect, read or write failed (refused, reset, timed out: hiredis reports them all as I/O).
        package static let io = Code(rawValue: REDIS_ERR_IO)
        package static let eof = Code(rawValue: REDIS_ERR_EOF)
        package static let `protocol` = Code(rawValue: REDIS_ERR_PROTOCOL)
        package static let outOfMemory = Code(rawValue: REDIS_ERR_OOM)
        package static let other = Code(rawValue: REDIS_ERR_OTHER)
        /// The server answered with an error reply (`-ERR …`, `-NOAUTH …`): the connection is still good.
        package static let reply = Code(rawValue: -1)
    }

    package let code: Code
    package let message: String

    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The connection can no longer be used (hiredis leaves a context in error for good); a reply error keeps it.
    package var breaksConnection: Bool { code != .reply }

    /// `NOSCRIPT` (scripts) or `ERR Function not found` (functions): Redis restarted or the functions were
    /// flushed, and loading them again fixes it.
    package var isMissingFunction: Bool {
        code == .reply && (message.hasPrefix("NOSCRIPT") || message.hasPrefix("ERR Function not found"))
    }

    package var description: String {
        code == .reply ? "redis replied: \(message)" : "redis: \(message) (hiredis error \(code.rawValue))"
    }
}
