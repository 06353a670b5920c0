import Glibc
import ImagedropParsing
import ImagedropPipeline
import ImagedropStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// `[http] listen`: the status endpoint on SwiftNIO, one event-loop thread. Every connection runs through
/// `ConnectionGuard` (request and idle deadlines, gentle closing), NIO's HTTP/1 codec (bounded to a 64 KiB
/// head), `RequestArrival` and `StatusHandler` (which asks `RequestGate` about each request). At most
/// `max_connections` are open at once: more are accepted and closed at once.
package final class StatusEndpoint: Sendable {
    package static let maxBodyBytes = 16 << 10
    /// Between requests on a kept-alive connection: long enough for a browser's reuse, short enough that idle
    /// connections do not pile up against `max_connections`.
    package static let idleSeconds: UInt64 = 30

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let socketPath: String?
    /// Where it listens, with the real port when 0 was asked for.
    package let address: String

    package struct StartError: Error, CustomStringConvertible {
        package var description: String
        /// The bind failed (address in use, not available yet, refused): a condition that passes on its own, as
        /// opposed to a path that holds something other than our socket.
        package var passes = false
    }

    package static func start(
        _ listen: Config.HTTP.Listen, site: StatusSite, logger: Logger
    ) throws(StartError) -> StatusEndpoint {
        let http = site.config.current.http
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let requestTimeoutNanos = UInt64(http.requestTimeoutSeconds) * 1_000_000_000
        let gate = RequestGate(
            policy: RequestGate.Policy(http: http, csrfKey: site.csrfKey, maxBodyBytes: maxBodyBytes))
        // A request may wait its turn for the database as long as it may take to arrive.
        let lane = DatabaseLane(maxWaitNanos: requestTimeoutNanos)
        let limit = ConnectionLimit(limit: http.maxConnections, logger: logger)
        if case .tcp(let host, _) = listen, http.allowedHosts.isEmpty,
            HostAddress.parseLiteral(host).map(HostAddress.isWildcard) == true
        {
            logger.warning(
                """
                http: listening on a wildcard address with no allowed_hosts; only requests naming localhost or a \
                loopback address are answered (421 otherwise)
                """, metadata: ["listen": "\(listen)"])
        }
        let decoderLimits = Self.decoderLimits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard limit.admit(channel) else { return channel.eventLoop.makeFailedFuture(ConnectionLimit.Refused()) }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(
                        ConnectionGuard(
                            requestTimeoutNanos: requestTimeoutNanos,
                            idleTimeoutNanos: idleSeconds * 1_000_000_000))
                    try pipeline.configureHTTPServerPipeline(
                        withErrorHandling: false, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: decoderLimits)
                    try pipeline.addHandler(
                        RequestArrival(), position: .before(pipeline.handler(type: HTTPServerPipelineHandler.self)))
                    try pipeline.addHandler(StatusHandler(site: site, gate: gate, lane: lane))
                }
            }
        do {
            switch listen {
            case .tcp(let host, let port):
                let channel = try bootstrap.bind(host: host, port: port).wait()
                let bound = channel.localAddress?.port ?? port
                let shown = host.contains(":") ? "[\(host)]:\(bound)" : "\(host):\(bound)"
                return StatusEndpoint(group: group, channel: channel, socketPath: nil, address: shown)
            case .unix(let path):
                // A socket left by a daemon that died is in the way; anything else at the path is not ours.
                var info = stat()
                if lstat(path, &info) == 0 {
                    guard (info.st_mode & S_IFMT) == S_IFSOCK else {
                        throw StartError(description: "\(path) exists and is not a socket")
                    }
                    unlink(path)
                }
                let channel = try bootstrap.bind(unixDomainSocketPath: path).wait()
                // Group members (the unit's imagedrop group) may connect; the unit's UMask would leave it owner-only.
                chmod(path, 0o660)
                return StatusEndpoint(group: group, channel: channel, socketPath: path, address: "unix:\(path)")
            }
        } catch let error as StartError {
            try? group.syncShutdownGracefully()
            throw error
        } catch {
            try? group.syncShutdownGracefully()
            throw StartError(description: "\(error)", passes: true)
        }
    }

    /// NIO's decoder stops reading a head at `HeadBudget`'s size (so a flood is never buffered whole) and one
    /// line past its count; `RequestGate` then applies the exact rule to what got through.
    private static var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = HeadBudget.decoderLimit
        limits.maxHeaderFieldSize = HeadBudget.decoderLimit
        limits.maxHeaderFieldCount = HeadBudget.maxLines + 1
        return limits
    }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, socketPath: String?, address: String) {
        self.group = group
        self.channel = channel
        self.socketPath = socketPath
        self.address = address
    }

    package func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
        if let socketPath { unlink(socketPath) }
    }
}
