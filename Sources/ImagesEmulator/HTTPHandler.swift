import NIOCore
import NIOHTTP1

/// One per connection: turns HTTP/1.1 request parts into calls on `EmulatorCore` and writes the replies.
///
/// Bodies are consumed as they arrive: upload forms are parsed and hashed chunk by chunk, other bodies are
/// small and bounded. A request refused before its body is read gets its reply at once; the rest of its body is
/// discarded so the connection can be reused (`HTTPServerPipelineHandler` keeps pipelined requests in order).
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Body {
        case discard
        case upload(UploadForm)
        case json([UInt8], limit: Int)
    }

    private enum State {
        case idle
        case api(AcceptedRequest, Body)
        case admin(HTTPMethod, Substring, [UInt8], limit: Int)
        /// A reply was already decided for this request; drop its remaining body parts.
        case discarding
    }

    private let core: EmulatorCore
    private var state = State.idle
    private var version = HTTPVersion.http1_1
    private var keepAlive = true

    init(core: EmulatorCore) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): received(head, context: context)
        case .body(let buffer): received(buffer, context: context)
        case .end: receivedEnd(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .api(let request, _) = state {
            core.recordAbandoned(request.info)
        }
        state = .idle
        context.fireChannelInactive()
    }

    private func received(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        version = head.version
        keepAlive = head.isKeepAlive
        let expectsContinue = head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }

        if head.uri.hasPrefix(AdminAPI.prefix) {
            let path = RequestTarget(head.uri).rawPath
            state = .admin(head.method, path, [], limit: AdminAPI.bodyLimit(method: head.method, path: path) ?? 0)
            if expectsContinue { sendContinue(context: context) }
            return
        }
        let info = core.makeRequestInfo(head)
        switch core.begin(info) {
        case .reply(var reply):
            // A client waiting for 100 Continue will not send the body now; the connection cannot be reused.
            if expectsContinue, HTTPHandler.announcesBody(head.headers) { reply.closeConnection = true }
            state = .discarding
            send(reply, context: context, delayed: true)
        case .accept(let request):
            let body: Body
            switch request.plan {
            case .discard:
                body = .discard
            case .upload(let boundary):
                body = .upload(
                    UploadForm(
                        boundary: boundary, maxFileBytes: core.configuration.maxUploadBytes,
                        storeBytes: core.configuration.storeBytes))
            case .json(let limit):
                body = .json([], limit: limit)
            }
            state = .api(request, body)
            if expectsContinue { sendContinue(context: context) }
        }
    }

    private func received(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        switch state {
        case .api(let request, .upload(var form)):
            state = .discarding  // keeps the form's buffers uniquely referenced while it is fed
            do {
                try form.feed(buffer)
                state = .api(request, .upload(form))
            } catch {
                send(core.bodyRefused(request, error), context: context, delayed: true)
            }
        case .api(let request, .json(var bytes, let limit)):
            state = .discarding
            guard bytes.count + buffer.readableBytes <= limit else {
                send(
                    core.respond(request.info, .error(.badRequest("ERROR 5400: Bad request: body too large"))),
                    context: context, delayed: true)
                return
            }
            bytes.append(contentsOf: buffer.readableBytesView)
            state = .api(request, .json(bytes, limit: limit))
        case .admin(let method, let path, var bytes, let limit):
            if bytes.count + buffer.readableBytes <= limit {
                bytes.append(contentsOf: buffer.readableBytesView)
            }
            state = .admin(method, path, bytes, limit: limit)
        case .api(_, .discard), .discarding, .idle:
            break
        }
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        let current = state
        state = .idle
        switch current {
        case .api(let request, .upload(let form)):
            var form = form
            do {
                try form.finish()
                if let url = form.urlToFetch {
                    fetchThenFinish(url, request: request, form: form, context: context)
                    return
                }
                send(core.finish(request, body: .upload(form)), context: context, delayed: true)
            } catch {
                send(core.bodyRefused(request, error), context: context, delayed: true)
            }
        case .api(let request, .json(let bytes, _)):
            send(core.finish(request, body: .json(bytes)), context: context, delayed: true)
        case .api(let request, .discard):
            send(core.finish(request, body: .none), context: context, delayed: true)
        case .admin(let method, let path, let bytes, _):
            send(AdminAPI.handle(method: method, path: path, body: bytes, core: core), context: context, delayed: false)
        case .discarding, .idle:
            break
        }
    }

    /// A `url` upload: the origin is fetched off the event loop (a slow origin must not stall other
    /// connections), then the upload is finished on it like a file upload.
    private func fetchThenFinish(
        _ url: String, request: AcceptedRequest, form: UploadForm, context: ChannelHandlerContext
    ) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context, form), eventLoop: loop)
        let core = self.core
        OriginFetch.fetch(url, configuration: core.configuration) { result in
            loop.execute {
                let (handler, context, form) = bound.value
                var fetchedForm = form
                fetchedForm.fetched = result
                handler.send(core.finish(request, body: .upload(fetchedForm)), context: context, delayed: true)
            }
        }
    }

    private func sendContinue(context: ChannelHandlerContext) {
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
    }

    /// API replies wait for the configured latency; admin replies never do.
    private func send(_ reply: Reply, context: ChannelHandlerContext, delayed: Bool) {
        let latency = (delayed ? core.faults.configuration.latencyMs : 0) + reply.extraDelayMs
        let keepAlive = self.keepAlive
        let version = self.version
        guard latency > 0 else {
            write(reply, context: context, keepAlive: keepAlive, version: version)
            return
        }
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(latency))) {
            self.write(reply, context: context, keepAlive: keepAlive, version: version)
        }
    }

    private func write(_ reply: Reply, context: ChannelHandlerContext, keepAlive: Bool, version: HTTPVersion) {
        guard context.channel.isActive else { return }
        if reply.disposition == .closeWithoutReply {
            context.close(promise: nil)
            return
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + reply.headers.count)
        headers.add(name: "content-type", value: reply.contentType)
        headers.add(name: "content-length", value: String(reply.body.readableBytes))
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        let close = !keepAlive || reply.closeConnection
        if close {
            headers.add(name: "connection", value: "close")
        } else if version.major == 1, version.minor == 0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: reply.status, headers: headers))),
            promise: nil)
        if reply.disposition == .cutHalfway {
            let half =
                reply.body.getSlice(at: reply.body.readerIndex, length: reply.body.readableBytes / 2) ?? ByteBuffer()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(half)))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
            return
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        if close {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    static func announcesBody(_ headers: HTTPHeaders) -> Bool {
        if let length = headers.first(name: "content-length").flatMap(Int.init) { return length > 0 }
        return headers.contains(name: "transfer-encoding")
    }
}
