import ImagedropParsing
import ImagedropStore

/// The decisions on a claimed job's one path, without I/O: each takes what its step saw and returns what is
/// to be done; `JobProcessor` (the owner) does it. A worker's own claim and the preparer's hand-off walk the
/// same steps (`JobProcessor.process`, `prepareAhead` + `send(prepared:)`):
///
/// 1. `admit`: the job's source config now (and the one it was prepared under) → run it, or back to the queue;
/// 2. pre-flight (`JobProcessor.preflight`) → `prepared(Attempt)`, or `settled` with its next state written;
/// 3. send (`JobProcessor.send`): the token, read here alone, then the request → the reply;
/// 4. `Outcome.decide` → 5. `writeBack` → what the table is told.
///
/// Modelled on hummingbird's `HTTP2ServerConnectionManager.StateMachine`: the machine returns actions and
/// never performs them, so every decision is tested as a function (`JobPathTests`).
package enum JobPath {
    /// Whether a claimed job may go on under the config in force.
    package enum Admission: Equatable {
        case run(Config)
        /// Back to the queue untouched, for this reason.
        case release(Held)
    }

    package enum Held: Equatable {
        /// A reload removed the job's source since the claim: the job waits for it, queued.
        case sourceNotConfigured
        /// Prepared under another config (ids, metadata, the source's own rules): prepared again under this one.
        case reloadedSincePrepared
    }

    package static func admit(current: Config?, preparedUnder: Config?) -> Admission {
        guard let current else { return .release(.sourceNotConfigured) }
        if let preparedUnder, preparedUnder != current { return .release(.reloadedSincePrepared) }
        return .run(current)
    }

    /// What an upload's outcome writes back.
    package enum WriteBack: Equatable {
        /// Back to the queue, no attempt counted.
        case release
        /// The file changed under the upload: queued again for its final version, no attempt counted.
        case requeueChanged
        /// Stored, but with bytes of two versions: the image is owed a DELETE before the job goes again.
        case oweDeleteThenRequeue(imageID: String)
        case finish(ImageRecord)
        case confirmExisting
        /// A `.retry` or a given-up `.failed` (with what the server said about waiting).
        case retry(Outcome)
        case pause(reason: String, kind: PauseGate.Kind)
        case fail(reason: String, code: Int?)
    }

    /// `sentMixedBytes`: the descriptor no longer shows the version that was hashed, so what was sent may mix two
    /// versions. A transient outcome is then not the job's (the next version goes instead), and a stored image
    /// is not the file's.
    package static func writeBack(_ outcome: Outcome, sentMixedBytes: Bool) -> WriteBack {
        switch outcome {
        case .release:
            return .release
        case .retry, .failed(_, _, gaveUp: true, _):
            return sentMixedBytes ? .requeueChanged : .retry(outcome)
        case .done(let image):
            return sentMixedBytes ? .oweDeleteThenRequeue(imageID: image.id) : .finish(image)
        case .confirmExisting:
            return .confirmExisting
        case .pause(let reason, let kind):
            return .pause(reason: reason, kind: kind)
        case .failed(let reason, let code, gaveUp: false, _):
            return .fail(reason: reason, code: code)
        }
    }
}
