import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The emulator as a running HTTP server. Start it in-process on port 0 from tests, or through the
/// `imagedrop-emulator` executable.
public final class EmulatorServer: Sendable {
    let core: EmulatorCore
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let stopped = Atomic<Bool>(false)
    public let host: String
    public let port: Int

    private init(core: EmulatorCore, group: MultiThreadedEventLoopGroup, channel: any Channel, host: String, port: Int)
    {
        self.core = core
        self.group = group
        self.channel = channel
        self.host = host
        self.port = port
    }

    /// Binds and returns once the listener accepts connections.
    public static func start(_ configuration: EmulatorConfiguration) throws -> EmulatorServer {
        let core = EmulatorCore(configuration)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if configuration.slowReadMs > 0 {
                        try channel.syncOptions?.setOption(.socketOption(.so_rcvbuf), value: 64 << 10)
                        try channel.syncOptions?.setOption(.maxMessagesPerRead, value: 1)
                        try channel.pipeline.syncOperations.addHandler(
                            SlowReads(delay: .milliseconds(Int64(configuration.slowReadMs))))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(core: core))
                }
            }
        do {
            let channel = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
            let port = channel.localAddress?.port ?? configuration.port
            return EmulatorServer(core: core, group: group, channel: channel, host: configuration.host, port: port)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    public var baseURL: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "http://\(hostPart):\(port)"
    }

    public var apiBaseURL: String { baseURL + "/client/v4" }

    public var faults: FaultConfiguration { core.faults.configuration }

    /// Replaces the faults and restarts their generator from `faults.seed`.
    public func setFaults(_ faults: FaultConfiguration) {
        core.faults.set(faults)
    }

    public func storedImages() -> [StoredImage] {
        core.store.all().map(\.stored)
    }

    public func requestLog() -> [LoggedRequest] {
        core.log.snapshot()
    }

    /// Forgets images, the request log, fail-first attempt counters and rate-limit windows (faults stay).
    public func reset() {
        core.reset()
    }

    /// Closes the listener and shuts the event loops down. Safe to call more than once.
    public func stop() throws {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? channel.close().wait()
        try group.syncShutdownGracefully()
    }
}
