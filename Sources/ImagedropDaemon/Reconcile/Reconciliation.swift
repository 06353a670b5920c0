import ImagedropParsing
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport

/// `imagedrop reconcile`: reads the whole account (list v2, through the request budget like any request),
/// compares it with the ledger's done jobs in the database's temp tables, reports each difference as it is
/// found and, with `fix`, repairs what the drop folders allow (`Reconciliation+Fix`).
package struct Reconciliation {
    package struct Options: Sendable {
        /// Only this source's jobs, and only images whose file is found under this source's watch paths.
        package var source: String?
        package var fix: Bool
        package var json: Bool
        /// Images per list request (the API allows up to 10,000; 1,000 is what it documents per page).
        package var perPage: Int

        package init(source: String?, fix: Bool, json: Bool, perPage: Int = 1000) {
            self.source = source
            self.fix = fix
            self.json = json
            self.perPage = perPage
        }
    }

    /// Exit statuses beyond the report's own 0 (in agreement, or all fixed) and 1 (differences remain).
    package enum Failure: Int32 {
        case unavailable = 69
        case database = 74
    }

    let config: Config
    let store: JobStore
    let token: APIToken
    let options: Options
    /// Rows asked for at a time while the differences are read back.
    static let batch = 500

    package init(config: Config, store: JobStore, token: APIToken, options: Options) {
        self.config = config
        self.store = store
        self.token = token
        self.options = options
    }

    /// Runs it all; `write` gets stdout's text, `problem` one line for stderr. Returns the exit status.
    package func run(write: @escaping (String) -> Void, problem: (String) -> Void) -> Int32 {
        let limiter = RateLimiter(
            limit: config.upload.requestsPer5Min, windowSeconds: Double(config.upload.rateWindowSeconds),
            ledger: RequestLedger(store: store))
        // Grants reserved and not used go back, so a daemon running beside it keeps its whole budget.
        defer { limiter.returnUnusedReservation() }
        let client = ImagesClient(
            endpoint: .init(
                apiBaseURL: config.cloudflare.apiBaseURL, accountID: config.cloudflare.accountID,
                timeoutSeconds: config.upload.requestTimeoutSeconds, caFile: config.cloudflare.caFile))
        let pager = AccountPager(
            client: client, token: token, perPage: options.perPage, config: config, limiter: limiter,
            batchTokens: config.cloudflare.batchAPI ? BatchTokens() : nil)
        // A little before now: a job done in the second the snapshot was taken is looked at again afterwards.
        let listingStarted = Timestamp.iso8601(millis: Timestamp.nowMillis() - 2_000)
        let doneJobs: Int
        do { doneJobs = try store.beginReconcile(source: options.source) } catch {
            problem("cannot read the job table \(store.path): \(error)")
            return Failure.database.rawValue
        }
        let progress = ListingProgress(line: TerminalStatusLine.stderr)
        do {
            try pager.forEachPage { records in
                try store.addAccountImages(records.map(AccountImage.init))
                progress.page(images: records.count)
            }
            progress.finish()
        } catch let failure as AccountPager.Failure {
            progress.finish()
            problem("cannot list the account's images at \(config.cloudflare.apiBaseURL): \(failure)")
            return Failure.unavailable.rawValue
        } catch {
            progress.finish()
            problem("cannot record the account's images in the job table's temp space: \(error)")
            return Failure.database.rawValue
        }
        let report = ReconcileReport(json: options.json, fixing: options.fix, write: write)
        do {
            try store.addJobsDone(since: listingStarted, source: options.source)
            report.begin(images: try store.accountImageCount(), doneJobs: doneJobs)
            try reportMissing(to: report)
            try reportUnrecorded(to: report)
            try reportStale(to: report)
        } catch {
            problem("reconcile stopped: \(error)")
            return Failure.database.rawValue
        }
        return report.finish()
    }

    private func reportMissing(to report: ReconcileReport) throws {
        var after: Int64 = 0
        while true {
            let jobs = try store.missingJobs(after: after, limit: Self.batch)
            for job in jobs { report.add(.missing(job, fix: options.fix ? try requeue(job) : nil)) }
            guard let last = jobs.last else { return }
            after = last.id
        }
    }

    private func reportUnrecorded(to report: ReconcileReport) throws {
        let locator = WatchRootLocator(config: config, source: options.source)
        var after: String?
        while true {
            let images = try store.unrecordedImages(after: after, limit: Self.batch)
            for image in images {
                let files = locator.files(for: image.sourcePath ?? "")
                // With --source, an image belongs to the source whose folders hold its file; one found in none
                // of them is another source's business (or nobody's: reported without --source).
                if options.source != nil, files.isEmpty { continue }
                report.add(
                    .unrecorded(image, file: files.first, fix: options.fix ? try rebuild(image, from: files) : nil))
            }
            guard let last = images.last else { return }
            after = last.id
        }
    }

    private func reportStale(to report: ReconcileReport) throws {
        var after: Int64 = 0
        while true {
            let stale = try store.staleJobs(after: after, limit: Self.batch)
            for entry in stale { report.add(.stale(entry, fix: options.fix ? try refresh(entry) : nil)) }
            guard let last = stale.last else { return }
            after = last.job.id
        }
    }
}

extension AccountImage {
    /// What the list says of an image, as the comparison keeps it.
    init(_ record: ImageRecord) {
        self.init(
            id: record.id, variants: record.variants ?? [], sha256: record.metaSHA256,
            sourcePath: record.metaSourcePath, jobKey: record.metaJobKey, uploaded: record.uploaded)
    }
}
