import ImagedropSupport

/// The terminal's progress line while the account is read: pages, images, and the rate (a listing waits
/// for the request budget like any request, so the rate is what the budget allows, not what the API could).
final class ListingProgress {
    private let line: TerminalStatusLine?
    private let started = Timestamp.monotonicNanos()
    private var pages = 0
    private var images = 0

    init(line: TerminalStatusLine?) { self.line = line }

    func page(images count: Int) {
        pages += 1
        images += count
        guard let line else { return }
        let seconds = max(Double(Timestamp.monotonicNanos() - started) / 1e9, 0.001)
        line.show(
            "reconcile: \(pages) page\(pages == 1 ? "" : "s"), \(images) images listed, "
                + "\(Int((Double(images) / seconds).rounded())) images/s")
    }

    func finish() { line?.finish("") }
}

@available(*, unavailable)
extension ListingProgress: Sendable {}
