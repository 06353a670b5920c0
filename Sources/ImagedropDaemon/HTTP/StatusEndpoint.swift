import ImagedropSupport
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import Dispatch
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// `[http] listen`: the status endpoint on SwiftNIO, one event-loop thread. Requests are small and bounded
/// (a head of at most `maxHeaderBytes`, a body of at most `maxBodyBytes`, an idle connection closed after
/// `idleSeconds`); each is answered from `StatusSite` on a Dispatch queue, so a slow SQLite read never blocks
/// the loop.
public final class StatusEndpoint: Sendable {
    package static let maxHeaderBytes = 16 << 10
    package static let maxHeaderCount = 64
    package static let maxBodyBytes = 16 << 10
    package static let idleSeconds: Int64 = 30

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let socketPath: String?
    /// Where it listens, with the real port when 0 was asked for.
    public let address: String

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func start(_ listen: Config.HTTP.Listen, site: StatusSite) throws(StartError) -> StatusEndpoint {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let queue = DispatchQueue(label: "imagedrop-http", attributes: .concurrent)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(idleSeconds)))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(site: site, queue: queue))
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
            throw StartError(description: "cannot listen on \(listen): \(error)")
        }
    }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, socketPath: String?, address: String) {
        self.group = group
        self.channel = channel
        self.socketPath = socketPath
        self.address = address
    }

    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
        if let socketPath { unlink(socketPath) }
    }
}

/// One per connection. Collects a request within the limits, answers it off the loop, keeps the connection
/// alive when the client asks.
private final class StatusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let site: StatusSite
    private let queue: DispatchQueue
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var refused = false

    init(site: StatusSite, queue: DispatchQueue) {
        self.site = site
        self.queue = queue
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            refused = false
            let headerBytes = head.headers.reduce(head.uri.utf8.count) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            if headerBytes > StatusEndpoint.maxHeaderBytes || head.headers.count > StatusEndpoint.maxHeaderCount {
                refuse(context: context, .text(431, "request header fields too large"))
            } else if let length = head.headers.first(name: "content-length").flatMap(Int.init),
                      length > StatusEndpoint.maxBodyBytes {
                refuse(context: context, .text(413, "request body too large"))
            }
        case .body(var buffer):
            guard !refused else { return }
            if body.count + buffer.readableBytes > StatusEndpoint.maxBodyBytes {
                refuse(context: context, .text(413, "request body too large"))
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard !refused, let head else { return }
            self.head = nil
            let site = self.site
            let request = (method: head.method.rawValue, uri: head.uri,
                           headers: head.headers.map { ($0.name, $0.value) }, body: body)
            let keepAlive = head.isKeepAlive
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            queue.async {
                let reply = site.respond(method: request.method, target: request.uri, headers: request.headers, body: request.body)
                loopBound.eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.write(reply, context: context, keepAlive: keepAlive)
                }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    /// Answers at once and closes: the rest of an oversized request is not read.
    private func refuse(context: ChannelHandlerContext, _ reply: HTTPReply) {
        refused = true
        head = nil
        write(reply, context: context, keepAlive: false)
    }

    private func write(_ reply: HTTPReply, context: ChannelHandlerContext, keepAlive: Bool) {
        var headers = HTTPHeaders([("Content-Type", reply.contentType), ("Content-Length", "\(reply.body.count)")])
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: reply.status),
                                                             headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: reply.body.count)
        buffer.writeBytes(reply.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}
