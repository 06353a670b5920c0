import CHiredis
import Glibc

/// One blocking connection to Redis, owning its `redisContext`. Every command has a deadline
/// (`redisSetTimeout`): the fleet would rather go on alone than wait on a slow Redis.
///
/// Not thread-safe (hiredis's context is not): one per thread, or behind a lock. After an error that breaks it
/// (`RedisError.breaksConnection`) hiredis refuses every later command, so the owner makes a new one.
package final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    package let endpoint: RedisEndpoint

    /// Connects, logs in (`AUTH` when the endpoint has a password) and selects the database.
    package init(
        _ endpoint: RedisEndpoint, connectTimeoutMillis: Int = 250, commandTimeoutMillis: Int = 250
    ) throws(RedisError) {
        _ = Self.ignoreBrokenPipes
        let connectTimeout = Self.timeval(millis: connectTimeoutMillis)
        let made: UnsafeMutablePointer<redisContext>? =
            switch endpoint.address {
            case .tcp(let host, let port): redisConnectWithTimeout(host, Int32(clamping: port), connectTimeout)
            case .unix(let path): redisConnectUnixWithTimeout(path, connectTimeout)
            }
        // hiredis returns nil only when it cannot allocate the context.
        guard let made else { throw RedisError(code: .outOfMemory, message: "cannot allocate a redis context") }
        if made.pointee.err != 0 {
            let error = Self.error(of: made)
            redisFree(made)
            throw error
        }
        context = made
        self.endpoint = endpoint
        if redisSetTimeout(context, Self.timeval(millis: commandTimeoutMillis)) != REDIS_OK {
            throw Self.error(of: context)
        }
        if let password = endpoint.password {
            try expectOK(command(["AUTH", password]))
        }
        if endpoint.database != 0 {
            try expectOK(command(["SELECT", String(endpoint.database)]))
        }
    }

    deinit { redisFree(context) }

    /// hiredis writes with plain write(2): a Redis that vanished (killed, restarted) would raise SIGPIPE and kill the
    /// whole process instead of failing one command. The daemon ignores SIGPIPE at start (Signals); this covers
    /// every other user (`fleet status`, tests), once per process.
    private static let ignorePipe: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
    private static var ignoreBrokenPipes: Void { ignorePipe }

    /// Sends one command, arguments binary-safe (`redisCommandArgv`, no format string), and waits for its reply.
    /// An error reply is returned as `.error`, not thrown: the connection is still good. Throws when hiredis
    /// failed (I/O, timeout, protocol), after which this connection is spent.
    package func command(_ args: [String]) throws(RedisError) -> RedisReply {
        let buffers = args.map { Array($0.utf8) }
        var pointers: [UnsafeMutablePointer<CChar>] = []
        pointers.reserveCapacity(buffers.count)
        defer { for pointer in pointers { pointer.deallocate() } }
        for bytes in buffers {
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) {
                    pointer.initialize(from: $0.baseAddress!, count: bytes.count)
                }
            }
            pointers.append(pointer)
        }
        var argv: [UnsafePointer<CChar>?] = pointers.map { UnsafePointer($0) }
        let lengths: [Int] = buffers.map(\.count)
        let raw = redisCommandArgv(context, Int32(clamping: args.count), &argv, lengths)
        guard let raw else { throw Self.error(of: context) }
        defer { freeReplyObject(raw) }
        return RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Like `command`, but an error reply throws too (`RedisError.Code.reply`).
    package func checked(_ args: [String]) throws(RedisError) -> RedisReply {
        let reply = try command(args)
        if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        return reply
    }

    private func expectOK(_ reply: RedisReply) throws(RedisError) {
        if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
    }

    private static func error(of context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let message = withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RedisError(
            code: .init(rawValue: context.pointee.err), message: message.isEmpty ? "unknown error" : message)
    }

    private static func timeval(millis: Int) -> Glibc.timeval {
        let clamped = max(millis, 1)
        return Glibc.timeval(tv_sec: clamped / 1000, tv_usec: (clamped % 1000) * 1000)
    }
}

/// Thread confinement: hiredis's context is not safe to share; owners keep one per thread or lock around it.
@available(*, unavailable)
extension RedisConnection: Sendable {}
