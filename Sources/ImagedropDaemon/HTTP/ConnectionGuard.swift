import ImagedropParsing
import NIOCore

/// The first handler of every connection, next to the socket: it carries out `RequestClock`'s deadlines (a 408
/// written here as raw bytes, below the HTTP handlers, so it needs no request in their state machines) and it
/// closes connections gently: after a last response it shuts the sending side and reads and discards what the
/// client still sends, for a moment, before closing. Closing with unread bytes would make the kernel answer
/// with a reset that can destroy the response on its way (a 431 to a client still sending its headers).
final class ConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Sent down the pipeline (`triggerUserOutboundEvent`) by the HTTP handlers above.
    enum Event {
        /// A request arrived whole (from right after the decoder, before any pipelining buffer).
        case requestReceived
        /// A response was written to its end.
        case responseEnded
        /// That response was the last: close the connection once it has left.
        case closeAfterResponse
    }

    static let lingerNanos: UInt64 = 2_000_000_000
    /// Past this much discarded input, or the linger time, the connection is closed outright.
    static let maxDrainedBytes = 1 << 20

    private let requestTimeoutNanos: UInt64
    private let idleTimeoutNanos: UInt64
    private var clock: RequestClock?
    private var timer: Scheduled<Void>?
    private var timerDeadline: UInt64?
    private var closing = false
    private var drainedBytes = 0

    init(requestTimeoutNanos: UInt64, idleTimeoutNanos: UInt64) {
        self.requestTimeoutNanos = requestTimeoutNanos
        self.idleTimeoutNanos = idleTimeoutNanos
    }

    private static var now: UInt64 { NIODeadline.now().uptimeNanoseconds }

    func handlerAdded(context: ChannelHandlerContext) {
        clock = RequestClock(
            requestTimeoutNanos: requestTimeoutNanos, idleTimeoutNanos: idleTimeoutNanos, openedAt: Self.now)
        rearm(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelTimer() }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else {
            drainedBytes += unwrapInboundIn(data).readableBytes
            if drainedBytes > Self.maxDrainedBytes { context.close(promise: nil) }
            return
        }
        clock?.bytesArrived(at: Self.now)
        rearm(context: context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        clock?.writeStarted(at: Self.now)
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.clock?.writeFinished(at: Self.now)
            self.rearm(context: context)
        }
        context.write(data, promise: written)
        rearm(context: context)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? Event else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .requestReceived: clock?.requestReceived(at: Self.now)
        case .responseEnded: clock?.responseEnded(at: Self.now)
        case .closeAfterResponse: startClosing(context: context)
        }
        promise?.succeed(())
        rearm(context: context)
    }

    /// No more input is handed up; the sending side is shut (NIO does it once the writes before it have left),
    /// and the connection closed when the client closes its side or the linger time ends.
    private func startClosing(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        cancelTimer()
        let loopBound = context.loopBound
        timer = context.eventLoop.assumeIsolated().scheduleTask(
            deadline: .uptimeNanoseconds(Self.now + Self.lingerNanos)
        ) {
            loopBound.value.close(promise: nil)
        }
        context.flush()
        context.close(mode: .output).assumeIsolated().whenFailure { _ in loopBound.value.close(promise: nil) }
    }

    private func rearm(context: ChannelHandlerContext) {
        guard !closing, let deadline = clock?.deadline else {
            if !closing { cancelTimer() }
            return
        }
        guard deadline != timerDeadline else { return }
        cancelTimer()
        timerDeadline = deadline
        let loopBound = context.loopBound
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(deadline)) {
            self.expire(context: loopBound.value)
        }
    }

    private func expire(context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        guard !closing, let clock else { return }
        switch clock.expire(at: Self.now) {
        case .none:
            rearm(context: context)
        case .close:
            context.close(promise: nil)
        case .requestTimeout:
            var buffer = context.channel.allocator.buffer(capacity: 160)
            buffer.writeString(Self.requestTimeoutReply)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            startClosing(context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    static let requestTimeoutReply =
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + "Content-Length: 16\r\nConnection: close\r\n\r\nrequest timeout\n"
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
