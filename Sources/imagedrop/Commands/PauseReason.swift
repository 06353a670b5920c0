import ArgumentParser

/// The `--reason` of `pause` and `fleet pause`: shown on one line by `status` and `fleet status`.
enum PauseReason {
    static func validate(_ reason: String?) throws {
        guard let reason else { return }
        if reason.allSatisfy(\.isWhitespace) { throw ValidationError("--reason: give a reason, or leave --reason out") }
        if reason.count > 200 { throw ValidationError("--reason: at most 200 characters (got \(reason.count))") }
        if reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ValidationError("--reason: one line, no control characters")
        }
    }
}
