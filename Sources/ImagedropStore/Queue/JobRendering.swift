import ImagedropParsing
import ImagedropSupport
import ImagedropSystem

/// The JSON and text forms of jobs and of `status`, shared by `show`, `export` and `status`.
package enum JobRendering {
    package static func dictionary(_ job: Job) -> [String: Any] {
        [
            "id": job.id, "path": job.path.display,
            "path_raw_hex": job.path.isValidUTF8 ? JSONNull() : Hex.encode(job.path.bytes) as Any,
            "state": job.state.rawValue, "attempts": job.attempts, "last_error": job.lastError as Any? ?? JSONNull(),
            "last_code": job.lastCode as Any? ?? JSONNull(), "image_id": job.imageID as Any? ?? JSONNull(),
            "variants": job.variants, "size": job.size as Any? ?? JSONNull(),
            "sha256": job.sha256 as Any? ?? JSONNull(),
            "created_at": job.createdAt, "updated_at": job.updatedAt,
            "uploaded_at": job.uploadedAt as Any? ?? JSONNull(),
            "next_attempt_at": job.state == .retrying ? Timestamp.iso8601(millis: job.nextAttemptAtMillis) : JSONNull(),
            "moved_to": job.movedTo?.display as Any? ?? JSONNull(),
            // Never `url` itself: it may hold a credential; `path` is the URL with its user-info redacted.
            "kind": job.kind.rawValue, "source": job.source, "dismissed": job.dismissed,
        ]
    }

    package static func json(_ object: Any, pretty: Bool = false) -> String {
        (try? JSONWriter.string(object, options: pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys])) ?? "{}"
    }

    package static func text(_ job: Job) -> String {
        var lines = [
            "job:         \(job.id)",
            "path:        \(job.path.display)",
            "kind:        \(job.kind.rawValue)",
            "source:      \(job.source)",
            "state:       \(job.state.rawValue)",
            "attempts:    \(job.attempts)",
        ]
        if let error = job.lastError { lines.append("last error:  \(error)") }
        if job.dismissed {
            lines.append("dismissed:   yes (out of the failed counts; `imagedrop retry \(job.id)` queues it again)")
        }
        if job.state == .retrying { lines.append("next try:    \(Timestamp.iso8601(millis: job.nextAttemptAtMillis))") }
        if let id = job.imageID { lines.append("image id:    \(id)") }
        for variant in job.variants { lines.append("variant:     \(variant)") }
        if let size = job.size { lines.append("size:        \(size) bytes") }
        if let sha = job.sha256 { lines.append("sha256:      \(sha)") }
        lines.append("created:     \(job.createdAt)")
        lines.append("updated:     \(job.updatedAt)")
        if let uploaded = job.uploadedAt { lines.append("uploaded:    \(uploaded)") }
        if let moved = job.movedTo { lines.append("moved to:    \(moved.display)") }
        return lines.joined(separator: "\n")
    }
}

/// `imagedrop status`: what the table says, plus whether a daemon holds the lock.
package struct StatusReport {
    package var snapshot: QueueSnapshot
    package var daemon: DaemonRecord
    package var running: Bool
    package var pid: Int?
    package var databaseExists: Bool
    /// The webhook outbox (nil on a table without one).
    package var webhooks: WebhookBacklog?
    /// The sources the config names, so jobs of a source it no longer names are reported (nil: unknown).
    package var configuredSources: [String]? = nil
    /// The account's image quota as a daemon last read it (nil: not known yet).
    package var quota: AccountQuota? = nil
    /// The one "now" every age in the report is measured from: `status --check` prints its line and takes its
    /// exit code from two readings of `health`, which must agree even when the heartbeat's age crosses the
    /// staleness boundary between them (it printed `running` and exited 4).
    package var readAtMillis: Int64 = Timestamp.nowMillis()

    package var sources: SourceCounts { SourceCounts(counts: snapshot.sourceCounts, configured: configuredSources) }

    /// Reads the report without needing a daemon, a token or write access. Zero counts only when the table's
    /// folder exists and the file does not yet; a table that cannot be read is a `TableReadError`, never a guess.
    package static func load(database: String, sources: [String]? = nil) throws(TableReadError) -> StatusReport {
        guard let store = try JobStore.openForReading(database) else {
            var empty = QueueSnapshot()
            for state in JobState.allCases { empty.counts[state] = 0 }
            return StatusReport(
                snapshot: empty, daemon: DaemonRecord(), running: false, pid: nil, databaseExists: false,
                configuredSources: sources)
        }
        do {
            let probe = DaemonLock.probe(database: database)
            let record = try store.daemonRecord()
            return StatusReport(
                snapshot: try store.snapshot(), daemon: record, running: probe.running,
                pid: probe.running ? (probe.pid ?? record.pid) : nil, databaseExists: true,
                webhooks: try store.webhookBacklog(), configuredSources: sources,
                quota: try store.accountQuota())
        } catch {
            throw TableReadError.classify(error, database: database)
        }
    }

    package var oldestWaitingSeconds: Int? {
        guard let created = snapshot.oldestWaitingCreatedAt, let millis = Timestamp.parseISO8601(created) else {
            return nil
        }
        return Int(max(0, readAtMillis - millis) / 1000)
    }

    package var jsonObject: [String: Any] {
        var jobs: [String: Any] = [:]
        for state in JobState.allCases { jobs[state.rawValue] = snapshot.counts[state] ?? 0 }
        jobs["total"] = snapshot.total
        return [
            "jobs": jobs,
            "sources": sources.jsonObject,
            "unconfigured_sources": sources.unconfigured,
            "daemon": [
                "running": running, "pid": pid as Any? ?? JSONNull(),
                "paused": pausedReason as Any? ?? JSONNull(),
                "responding": responding as Any? ?? JSONNull(),
                "heartbeat_at": daemon.heartbeatAt as Any? ?? JSONNull(),
                "started_at": daemon.startedAt as Any? ?? JSONNull(),
                "status": running ? (daemon.statusLine as Any? ?? JSONNull()) : JSONNull(),
                "stopped_cleanly": running || daemon.startedAt == nil ? JSONNull() : !stoppedUncleanly as Any,
                "health": "\(health)",
            ] as [String: Any],
            "oldest_waiting_s": oldestWaitingSeconds as Any? ?? JSONNull(),
            "recent_failures": snapshot.recentFailures.map { job -> [String: Any] in
                [
                    "id": job.id, "path": job.path.display, "error": job.lastError ?? "",
                    "code": job.lastCode as Any? ?? JSONNull(),
                    "failed_at": job.updatedAt,
                ]
            },
            "next_retry_at": snapshot.nextRetryAt.map { Timestamp.iso8601(millis: $0) } as Any? ?? JSONNull(),
            "throughput": [
                "last_minute": snapshot.uploadsLastMinute, "last_hour": snapshot.uploadsLastHour,
                "eta_s": backlogETASeconds as Any? ?? JSONNull(),
            ] as [String: Any],
            "last_upload_at": snapshot.lastUploadAt as Any? ?? JSONNull(),
            "more_failures": moreFailures,
            // Failed jobs acknowledged with `imagedrop dismiss`: in none of the counts above.
            "dismissed": snapshot.dismissed,
            "watch": ["unwatched_folders": unwatchedFolders],
            "webhooks": [
                "pending": webhooks?.pending ?? 0, "dead": webhooks?.dead ?? 0,
                "last_dead_error": webhooks?.lastDeadError as Any? ?? JSONNull(),
            ] as [String: Any],
            "concurrency": concurrency as Any? ?? JSONNull(),
            "quota": quota?.jsonObject as Any? ?? JSONNull(),
            "config": configJSON,
            "fleet": ["degraded": fleetDegraded as Any? ?? JSONNull()] as [String: Any],
        ]
    }

    /// Seconds until the waiting jobs are through: the running daemon's own figure (BacklogETA, from the binding
    /// constraint) at its last heartbeat, less the time since. nil when no daemon runs, while paused, or when
    /// nothing says how fast the backlog will go. A daemon from before it recorded one: the last minute's rate.
    package var backlogETASeconds: Int? {
        guard running, pausedReason == nil else { return nil }
        if daemon.recordsETA {
            return daemon.etaSeconds.map { max(0, $0 - Int(heartbeatAgeSeconds ?? 0)) }
        }
        guard snapshot.uploadsLastMinute > 0 else { return nil }
        return Throughput.etaSeconds(
            waiting: waiting,
            rate: .init(
                filesPerSecond: Double(snapshot.uploadsLastMinute) / 60,
                bytesPerSecond: 0))
    }

    /// Jobs not finished yet: queued, retrying, or in a worker's hands.
    package var waiting: Int {
        (snapshot.counts[.queued] ?? 0) + (snapshot.counts[.retrying] ?? 0) + (snapshot.counts[.uploading] ?? 0)
    }

    /// `backlog ETA 5m04s`, `backlog ETA unknown (paused)`, or nil (no daemon, no backlog, nothing to go on).
    package var backlogETAText: String? {
        guard running, waiting > 0 else { return nil }
        if let eta = backlogETASeconds { return "backlog ETA \(HumanUnits.duration(eta))" }
        return pausedReason == nil ? nil : "backlog ETA unknown (paused)"
    }

    /// The running daemon's concurrency at its last heartbeat (`current`, `max`, `mode`, `bound`,
    /// `in_flight`); nil when no daemon runs or it has not recorded one yet.
    package var concurrency: [String: Any]? {
        guard running, let text = daemon.concurrencyJSON,
            let object = JSONReader.object(text)
        else { return nil }
        return object
    }

    package static func boundText(_ bound: String) -> String {
        switch bound {
        case "budget": "budget-bound: the request budget's rate × the round trip needs no more"
        case "latency": "latency-bound: the round trip sets the pace"
        case "backoff": "backing off after 429/5xx/timeouts"
        case "fixed": "fixed by upload.workers"
        case "idle": "idle: not every worker has work"
        case "max_workers": "at upload.max_workers"
        default: bound
        }
    }

    /// Failed jobs beyond the ones listed.
    package var moreFailures: Int { max(0, (snapshot.counts[.failed] ?? 0) - snapshot.recentFailures.count) }

    /// Folders the running daemon polls because inotify's watch limit was reached (0 when none runs).
    package var unwatchedFolders: Int { running ? daemon.unwatchedFolders : 0 }

    package var text: String {
        var lines: [String] = []
        var daemonLine: String
        if running {
            daemonLine =
                responding == false
                ? "daemon:   \(notRespondingText)" : "daemon:   running (pid \(pid.map(String.init) ?? "?"))"
        } else if stoppedUncleanly {
            daemonLine = "daemon:   not running — \(uncleanStopText); the next start queues its interrupted jobs again"
        } else {
            daemonLine = "daemon:   not running" + (daemon.stoppedAt.map { " (stopped \($0))" } ?? "")
        }
        if let paused = pausedReason {
            daemonLine += " — PAUSED: \(paused)"
            if let pause = daemon.operatorPause { daemonLine += " (since \(pause.at); `imagedrop resume` lifts it)" }
        }
        lines.append(daemonLine)
        if let line = reloadRefusedLine { lines.append(line) }
        if let line = fleetDegradedLine { lines.append(line) }
        let counts = JobState.allCases.map { "\(snapshot.counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        lines.append("jobs:     \(counts) (\(snapshot.total) total)")
        let sources = self.sources
        if sources.names.count > 1 || !sources.unconfigured.isEmpty {
            lines.append("sources:")
            for name in sources.names { lines.append("  \(sources.line(name))") }
        }
        if unwatchedFolders > 0 {
            lines.append(
                "watch:    \(unwatchedFolders) folders not watched (inotify watch limit; listed every 5 s instead)"
                    + " — raise fs.inotify.max_user_watches")
        }
        if let concurrency, let current = concurrency["current"], let maximum = concurrency["max"],
            let mode = concurrency["mode"], let bound = concurrency["bound"]
        {
            lines.append("workers:  \(current) of \(maximum) (\(mode); \(Self.boundText("\(bound)")))")
        }
        if let oldest = oldestWaitingSeconds { lines.append("waiting:  oldest for \(oldest) s") }
        if let quota {
            lines.append("quota:    \(quota.current) of \(quota.allowed) images stored (checked \(quota.checkedAt))")
        }
        // The daemon's own words on what it is doing (its last heartbeat), e.g. "waiting for budget: …".
        if running, let line = daemon.statusLine { lines.append("now:      \(line)") }
        if let next = snapshot.nextRetryAt { lines.append("retries:  next at \(Timestamp.iso8601(millis: next))") }
        lines.append(
            "uploads:  \(snapshot.uploadsLastMinute) in the last minute, \(snapshot.uploadsLastHour) in the last hour"
                + (snapshot.lastUploadAt.map { ", last at \($0)" } ?? "")
                + (backlogETAText.map { "; \($0)" } ?? ""))
        if let webhooks, webhooks.pending > 0 || webhooks.dead > 0 {
            var line = "webhooks: \(webhooks.pending) pending, \(webhooks.dead) dead"
            if webhooks.dead > 0 {
                line += " (last: \(webhooks.lastDeadError ?? "?"); `imagedrop webhook retry` sends them again)"
            }
            lines.append(line)
        }
        if snapshot.dismissed > 0 {
            lines.append(
                "dismissed: \(snapshot.dismissed) failed jobs acknowledged, not counted above (imagedrop list --state failed --all)"
            )
        }
        if !snapshot.recentFailures.isEmpty {
            lines.append("recent failures:")
            for job in snapshot.recentFailures {
                lines.append("  #\(job.id) \(job.path.display): \(job.lastError ?? "")")
            }
            if moreFailures > 0 { lines.append("  … and \(moreFailures) more (imagedrop list --state failed)") }
        }
        return lines.joined(separator: "\n")
    }
}
