import NIOCore
import NIOHTTP1

/// Sits right after the HTTP decoder, before the pipelining handler holds requests back, and tells
/// `ConnectionGuard` the moment a request has arrived whole: that stops its request deadline even for a request
/// that then waits behind the one being answered.
final class RequestArrival: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            context.triggerUserOutboundEvent(ConnectionGuard.Event.requestReceived, promise: nil)
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestArrival: Sendable {}
