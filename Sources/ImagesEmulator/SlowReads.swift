import NIOCore

/// `EmulatorConfiguration.slowReadMs`: every read from the socket waits `delay`, so the client's body backs up in
/// its socket buffers and its sender blocks mid-body (what the daemon's changed-during-upload tests need).
final class SlowReads: ChannelOutboundHandler {
    typealias OutboundIn = Any

    private let delay: TimeAmount

    init(delay: TimeAmount) { self.delay = delay }

    func read(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) { loopBound.value.read() }
    }
}
