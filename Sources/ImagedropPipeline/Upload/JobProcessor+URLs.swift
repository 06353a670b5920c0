import ImagedropParsing
import ImagedropStore
import ImagedropSystem
import Logging

/// URL jobs (Cloudflare fetches the image: no pre-flight, the form sends `url` instead of `file`) and the
/// watched `*.urls` lists that queue them.
extension JobProcessor {
    package func runURL(_ attempt: Attempt, token: APIToken) throws {
        let (job, config) = (attempt.job, attempt.config)
        guard let url = job.urlInput else {
            try reject(
                job, reason: "the job's url is missing or not a valid http(s) URL", sha256: nil, config: config,
                version: nil)
            return
        }
        let customID = ImageIDStrategy.customID(forURL: url, config: config)
        guard
            let metadata = ImageMetadata.build(
                userJSON: config.images.metadataJSON, sha256: nil,
                sourcePath: url.withoutCredentials, jobKey: customID == nil ? job.jobKey : nil,
                sourceKey: "source_url")
        else {
            try reject(
                job, reason: "metadata would exceed 1024 bytes with imagedrop's keys; shorten images.metadata",
                sha256: nil, config: config, version: nil)
            return
        }
        if customID == nil, job.sends > 0, try foundEarlierUpload(attempt, token: token) { return }

        var form = MultipartForm()
        form.fields.append(("url", url.text))
        if let customID { form.fields.append(("id", customID)) }
        form.fields.append(("metadata", metadata))
        form.fields.append(("requireSignedURLs", config.images.requireSignedURLs ? "true" : "false"))
        if let creator = config.images.creator { form.fields.append(("creator", creator)) }
        try request(form, attempt, token: token, customID: customID)
    }

    /// A `*.urls` file settled: every line is checked, then its URLs are queued and the list's own job ends
    /// `done` together; a bad line fails the list (naming the line) and queues nothing. After-upload
    /// actions apply to the list file as to an image.
    package func runURLList(_ job: Job, config: Config) throws {
        switch URLListFile.read(job.path) {
        case .changing:
            try lookAgainLater(job, config: config)
        case .rejected(let reason):
            try reject(job, reason: reason, sha256: nil, config: config, version: job.seenVersion)
        case .unavailable(let reason):
            try retryLocally(job, reason: reason, config: config)
        case .ready(let text, let version, let sha256):
            let urls: [URLInput]
            do {
                urls = try URLList.parse(text)
            } catch {
                try reject(job, reason: "URL list \(error)", sha256: sha256, config: config, version: version)
                return
            }
            let action = AfterUploadActions.pendingAction(success: true, config: config)
            guard
                let results = try deps.store.completeURLList(
                    id: job.id, urls: urls, sha256: sha256,
                    afterAction: action, version: version,
                    source: job.source)
            else {
                // The watcher recorded a newer version of the list: that one is read next.
                try deps.store.release(id: job.id, delayMillis: Int64(config.watch.settleMillis))
                return
            }
            let queued = results.filter { if case .inserted = $0 { return true } else { return false } }.count
            logger.info(
                "URL list queued",
                metadata: [
                    "job": "\(job.id)", "path": "\(job.path)", "status": "done", "urls": "\(urls.count)",
                    "queued": "\(queued)",
                ])
            deps.workSignal.notifyAll()
            if action != nil, let done = try deps.store.job(id: job.id) { afterActions.run(done, config: config) }
        }
    }
}
