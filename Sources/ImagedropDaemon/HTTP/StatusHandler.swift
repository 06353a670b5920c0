import ImagedropParsing
import ImagedropSupport
import NIOCore
import NIOHTTP1

/// One per connection, last in the pipeline: collects a request within the limits, lets `RequestGate` decide
/// about it, and answers it: `/healthz` at once on the event loop (it reads no database and never waits behind
/// the page), everything else on the database lane, off the loop. A refusal made before the body is read
/// closes the connection; one made after it keeps it alive as the client asked.
final class StatusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let site: StatusSite
    private let gate: RequestGate
    private let lane: DatabaseLane
    private var head: HTTPRequestHead?
    private var headers: [(String, String)] = []
    private var body: [UInt8] = []
    /// Set once a last response is on its way: whatever else arrives is not answered.
    private var closing = false

    init(site: StatusSite, gate: RequestGate, lane: DatabaseLane) {
        self.site = site
        self.gate = gate
        self.lane = lane
    }

    private static var nowSeconds: Int64 { Timestamp.nowMillis() / 1000 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let headers = head.headers.map { ($0.name, $0.value) }
            if case .refuse(let refusal) = decide(head, headers: headers, body: nil) {
                return write(.refusal(refusal), context: context, keepAlive: false)
            }
            self.head = head
            self.headers = headers
            body = []
        case .body(let buffer):
            guard head != nil else { return }
            guard body.count + buffer.readableBytes <= StatusEndpoint.maxBodyBytes else {
                head = nil
                return write(.text(413, "request body too large"), context: context, keepAlive: false)
            }
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            self.head = nil
            answer(
                decide(head, headers: headers, body: body), notice: ActionNotice(target: head.uri),
                query: PageQuery(target: head.uri), keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func decide(_ head: HTTPRequestHead, headers: [(String, String)], body: [UInt8]?) -> RequestGate.Decision {
        gate.decide(
            method: head.method.rawValue, uri: head.uri, headers: headers, body: body,
            isHTTP10: head.version.major == 1 && head.version.minor == 0, nowSeconds: Self.nowSeconds)
    }

    private func answer(
        _ decision: RequestGate.Decision, notice: ActionNotice?, query: PageQuery, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        switch decision {
        case .refuse(let refusal):
            write(.refusal(refusal), context: context, keepAlive: keepAlive)
        case .proceed(.healthz):
            write(site.healthz(), context: context, keepAlive: keepAlive)
        case .proceed(let route):
            let site = self.site
            let channel = context.channel
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let queued = lane.submit { turn in
                // A client that left while waiting costs no database read.
                guard channel.isActive else { return }
                let reply =
                    turn == .run
                    ? site.respond(to: route, nowSeconds: Self.nowSeconds, notice: notice, query: query) : .busy
                loopBound.eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.write(reply, context: context, keepAlive: keepAlive)
                }
            }
            if !queued { write(.busy, context: context, keepAlive: keepAlive) }
        }
    }

    /// The decoder's own limits (a head past 64 KiB in total, or one field too large) and malformed requests
    /// arrive here as errors: answered 431 or 400 and closed, as NIO's stock handler would but with the right code.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        guard !closing else { return }
        head = nil
        let reply: HTTPReply =
            parserError == .headerOverflow ? .refusal(HeadBudget.tooLarge) : .text(400, "bad request")
        write(reply, context: context, keepAlive: false)
    }

    private func write(_ reply: HTTPReply, context: ChannelHandlerContext, keepAlive: Bool) {
        guard !closing else { return }
        // Set before the end is written: writing it lets the pipelining handler deliver the next request at once,
        // into this handler, and after a last response that one must not be answered.
        if !keepAlive { closing = true }
        var headers = HTTPHeaders([("Content-Type", reply.contentType), ("Content-Length", "\(reply.body.count)")])
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(
                .head(
                    HTTPResponseHead(
                        version: .http1_1, status: .init(statusCode: reply.status),
                        headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: reply.body.count)
        buffer.writeBytes(reply.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.triggerUserOutboundEvent(ConnectionGuard.Event.responseEnded, promise: nil)
        if !keepAlive { context.triggerUserOutboundEvent(ConnectionGuard.Event.closeAfterResponse, promise: nil) }
    }
}

@available(*, unavailable)
extension StatusHandler: Sendable {}
