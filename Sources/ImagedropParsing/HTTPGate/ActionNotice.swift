/// What a retry button did, carried from the action's 303 to the page it redirects to, in the query string
/// (`/?done=retried-3&gone=1`, `/?done=retried-0&job=17&superseded=1`): the page shows it once, and the POST is
/// never repeated by a reload.
///
/// Only numbers travel. The page builds its sentence from them, so a crafted link (`/?done=<script>` or a
/// phishing text) can make the page say nothing but "N failed jobs queued again": no text from the request is
/// ever shown. Anything that is not exactly this shape is ignored (no notice), never an error.
package struct ActionNotice: Equatable, Sendable {
    /// Jobs queued again.
    package var retried: Int
    /// Left as they were: a newer job of the same file exists.
    package var superseded = 0
    /// Left as they were: the file is no longer there.
    package var gone = 0
    /// Set for `POST /jobs/{id}/retry`.
    package var job: Int64?

    package init(retried: Int, superseded: Int = 0, gone: Int = 0, job: Int64? = nil) {
        self.retried = retried
        self.superseded = superseded
        self.gone = gone
        self.job = job
    }

    /// The redirect target after an action.
    package var location: String {
        var location = "/?done=retried-\(retried)"
        if let job { location += "&job=\(job)" }
        if superseded > 0 { location += "&superseded=\(superseded)" }
        if gone > 0 { location += "&gone=\(gone)" }
        return location
    }

    /// From a request target (origin or absolute form); nil without a well-formed `done`.
    package init?(target: String) {
        let bytes = target.utf8
        guard let question = bytes.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        let end = bytes[question...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.endIndex
        var retried: Int?
        var fields: [String: Int64] = [:]
        for pair in bytes[bytes.index(after: question)..<end].split(separator: UInt8(ascii: "&")) {
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: pair[..<equals], as: UTF8.self)
            let value = pair[pair.index(after: equals)...]
            if key == "done" {
                let prefix = "retried-".utf8
                guard value.starts(with: prefix) else { continue }
                retried = Self.number(value.dropFirst(prefix.count)).map { Int($0) }
            } else if ["job", "superseded", "gone"].contains(key), let number = Self.number(value) {
                fields[key] = number
            }
        }
        guard let retried else { return nil }
        self.init(
            retried: retried, superseded: fields["superseded"].map { Int($0) } ?? 0,
            gone: fields["gone"].map { Int($0) } ?? 0, job: fields["job"])
    }

    /// One to 18 ASCII digits (any such number fits an Int64; a longer one is no count this daemon wrote).
    private static func number(_ digits: Substring.UTF8View.SubSequence) -> Int64? {
        guard (1...18).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
    }

    /// The sentence the page shows.
    package var text: String {
        if let job {
            if retried > 0 { return "job \(job) queued again" }
            if gone > 0 { return "job \(job) left as it is: its file is no longer there" }
            if superseded > 0 { return "job \(job) left as it is: a newer job of its file carries it" }
            return "job \(job) left as it is: it is not failed (any more)"
        }
        var left: [String] = []
        if superseded > 0 { left.append("\(superseded) superseded by a newer job of the same file") }
        if gone > 0 { left.append("\(gone) whose file is no longer there") }
        return "\(retried) failed jobs queued again"
            + (left.isEmpty ? "" : "; left as they are: " + left.joined(separator: ", "))
    }
}
