import CHiredis

/// A failed Redis exchange: hiredis's own error code and message (`redisContext.err`/`errstr`), or the server's
/// error reply. Callers classify by `code`, never by the text; only a missing function is told by its reply's
/// first word, because Redis has no other way of saying so.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// Connect, read or write failed (refused, reset, timed out: hiredis reports them all as I/O).
        public static let io = Code(rawValue: REDIS_ERR_IO)
        public static let eof = Code(rawValue: REDIS_ERR_EOF)
        public static let `protocol` = Code(rawValue: REDIS_ERR_PROTOCOL)
        public static let outOfMemory = Code(rawValue: REDIS_ERR_OOM)
        public static let other = Code(rawValue: REDIS_ERR_OTHER)
        /// The server answered with an error reply (`-ERR …`, `-NOAUTH …`): the connection is still good.
        public static let reply = Code(rawValue: -1)
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The connection can no longer be used (hiredis leaves a context in error for good); a reply error keeps it.
    public var breaksConnection: Bool { code != .reply }

    /// `NOSCRIPT` (scripts) or `ERR Function not found` (functions): Redis restarted or the functions were
    /// flushed, and loading them again fixes it.
    public var isMissingFunction: Bool {
        code == .reply && (message.hasPrefix("NOSCRIPT") || message.hasPrefix("ERR Function not found"))
    }

    public var description: String {
        code == .reply ? "redis replied: \(message)" : "redis: \(message) (hiredis error \(code.rawValue))"
    }
}
