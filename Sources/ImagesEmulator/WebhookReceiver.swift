import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A downstream system on loopback for webhook tests: records every POST (target, headers and body) and answers
/// 200, or 500 for a chosen share of requests (seeded, so a run is repeatable) or for all while `failing` is set;
/// a reply may carry a body of a chosen size (receivers that echo or answer with a page).
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        /// The request target as sent (`/hook/`, `/hook?x=1`).
        public var uri: String
        /// Lowercased names.
        public var headers: [String: String]
        public var body: [UInt8]
        /// What the receiver answered (only 2xx counts as delivered for the sender).
        public var status: Int
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    final class Shared: Sendable {
        struct State {
            var received: [Received] = []
            var failureProbability: Double
            var failing = false
            var replyBodyBytes = 0
            var random: SplitMixState
        }
        let state: Mutex<State>
        init(failureProbability: Double, seed: UInt64) {
            state = Mutex(State(failureProbability: failureProbability, random: SplitMixState(seed: seed)))
        }

        /// Records the request and decides the answer: its status and how many body bytes follow.
        func receive(uri: String, headers: [String: String], body: [UInt8]) -> (status: Int, bodyBytes: Int) {
            state.withLock { state in
                let roll = state.random.nextUnit()
                let status = state.failing || roll < state.failureProbability ? 500 : 200
                state.received.append(Received(uri: uri, headers: headers, body: body, status: status))
                return (status, state.replyBodyBytes)
            }
        }
    }

    private let shared: Shared
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    public let port: Int

    public var url: String { "http://127.0.0.1:\(port)/hook" }

    public static func start(failureProbability: Double = 0, seed: UInt64 = 1) throws -> WebhookReceiver {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let shared = Shared(failureProbability: failureProbability, seed: seed)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(shared: shared))
                }
            }
        do {
            let channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
            return WebhookReceiver(
                shared: shared, group: group, channel: channel, port: channel.localAddress?.port ?? 0)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    private init(shared: Shared, group: MultiThreadedEventLoopGroup, channel: any Channel, port: Int) {
        self.shared = shared
        self.group = group
        self.channel = channel
        self.port = port
    }

    public var received: [Received] { shared.state.withLock { $0.received } }

    /// While true every request gets a 500.
    public func setFailing(_ failing: Bool) { shared.state.withLock { $0.failing = failing } }

    public func setFailureProbability(_ probability: Double) {
        shared.state.withLock { $0.failureProbability = probability }
    }

    /// Every reply from now on carries a body of this many bytes (0: none).
    public func setReplyBodyBytes(_ count: Int) { shared.state.withLock { $0.replyBodyBytes = max(0, count) } }

    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// SplitMix64 as a value the receiver's lock guards.
struct SplitMixState {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextUnit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}

private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let shared: WebhookReceiver.Shared
    private var uri = ""
    private var headers: [String: String] = [:]
    private var body: [UInt8] = []
    private var keepAlive = true

    init(shared: WebhookReceiver.Shared) { self.shared = shared }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            headers = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            body = []
            keepAlive = head.isKeepAlive
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            let (status, bodyBytes) = shared.receive(uri: uri, headers: headers, body: body)
            var replyHeaders = HTTPHeaders([("Content-Length", "\(bodyBytes)")])
            if !keepAlive { replyHeaders.add(name: "Connection", value: "close") }
            context.write(
                wrapOutboundOut(
                    .head(
                        HTTPResponseHead(
                            version: .http1_1, status: .init(statusCode: status),
                            headers: replyHeaders))), promise: nil)
            if bodyBytes > 0 {
                let page = context.channel.allocator.buffer(repeating: UInt8(ascii: "x"), count: bodyBytes)
                context.write(wrapOutboundOut(.body(.byteBuffer(page))), promise: nil)
            }
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    loopBound.value.close(promise: nil)
                }
            }
        }
    }
}
