import ImagedropStore

/// Jobs the preparer pre-flights ahead of the workers (`UploadWorkerPool+Preparer`): made ready on its
/// thread, sent from whichever worker takes them, under the config in force when they go out.
extension JobProcessor {
    /// A job the preparer made ready for the next free worker: its request is all that is left.
    package enum Ready {
        case upload(PreparedUpload)
        /// A URL job: nothing to prepare, but held like the others so the preparer does not take it again.
        case url(Job, Config)

        package var job: Job {
            switch self {
            case .upload(let prepared): prepared.attempt.job
            case .url(let job, _): job
            }
        }

        var config: Config {
            switch self {
            case .upload(let prepared): prepared.attempt.config
            case .url(_, let config): config
            }
        }
    }

    /// Pre-flight only, for the preparer thread: the job's request is left to whichever worker takes it.
    /// Nil when the job's next state is already written; the job stays in `inFlight` only when it is ready.
    package func prepareAhead(_ job: Job) -> Ready? {
        guard let config = configFor(job) else { return nil }
        deps.inFlight.insert(job.id)
        var result: Ready?
        carry(job) {
            switch try prepare(job, config: config) {
            case .settled: break
            case .url(let job, let config, _): result = .url(job, config)
            case .upload(let prepared): result = .upload(prepared)
            }
        }
        if result == nil { deps.inFlight.remove(job.id) }
        return result
    }

    /// Sends what the preparer made ready. The config in force is checked again first: a reload since (ids,
    /// metadata, the source's own rules) sends the job back to the queue to be prepared under the new one.
    package func send(prepared ready: Ready) {
        let job = ready.job
        defer { deps.inFlight.remove(job.id) }
        guard let config = deps.config.current.scoped(to: job.source), config == ready.config else {
            release(job)
            return
        }
        useEndpoint(of: config)
        carry(job) {
            switch ready {
            case .upload(let prepared):
                try upload(prepared)
            case .url(let job, let config):
                // The token as it is now, as for a file: a SIGHUP may have replaced it meanwhile.
                guard let token = tokenOrPause(job) else { return }
                try runURL(job, config: config, token: token)
            }
        }
    }
}
