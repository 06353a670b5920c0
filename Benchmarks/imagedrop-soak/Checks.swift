import Foundation
import Glibc
import ProcessHarness

/// The emulator's record of the run.
struct EmulatorRecord: Decodable {
    struct Request: Decodable {
        let method: String
        let path: String
        let status: Int
        let receivedAtMillis: Int64
        let receivedAtMicros: Int64?
        let fault: String?
        let fileSHA256: String?
        let retryAfter: String?
        var micros: Int64 { receivedAtMicros ?? receivedAtMillis * 1000 }
    }
    struct Image: Decodable {
        let id: String
        let sha256: String
    }
    let requests: [Request]
    let images: [Image]
}

struct Check {
    let name: String
    let passed: Bool
    let figure: String
    var details: [String] = []
}

extension Soak {
    func checkInvariants(settled: (quiet: Bool, seconds: Double)) throws -> [Check] {
        try? Files.write(text: model.journal.joined(separator: "\n") + "\n", to: world.root + "/actions.log")
        let datagrams = notify.datagrams.map {
            String(format: "%.3f ", $0.at - startedAt) + $0.lines.joined(separator: " ")
        }
        let livesText = lives.map { life in
            "pid \(life.pid) spawned \(String(format: "%.3f", life.spawnedAt - startedAt)) ready \(life.readyAt.map { String(format: "%.3f", $0 - startedAt) } ?? "-") ended \(life.endedAt.map { String(format: "%.3f", $0 - startedAt) } ?? "-") \(life.end)"
        }
        try? Files.write(text: (livesText + datagrams).joined(separator: "\n") + "\n", to: world.root + "/notify.log")
        let whole = try JSONDecoder().decode(
            EmulatorRecord.self, from: Data(try emulator.admin("GET", "/__emulator/log").utf8))
        // With --hosts, the companions' contents are theirs: out of the checks on host 0's files, in the budget's.
        let companion = fleet?.shas ?? []
        let record = EmulatorRecord(
            requests: whole.requests.filter { $0.fileSHA256.map { !companion.contains($0) } ?? true },
            images: whole.images.filter { !companion.contains($0.sha256) })
        // Kept with the folder (on failure or --keep); removed with it otherwise.
        try? Files.write(text: try emulator.admin("GET", "/__emulator/log"), to: world.root + "/emulator-log.json")
        guard let table = JobTable(path: world.database), let rows = table.rows() else {
            return [Check(name: "the job table can be read", passed: false, figure: world.database)]
        }
        let newest = newestJobs(rows)
        var imagesBySHA: [String: [String]] = [:]
        for image in record.images { imagesBySHA[image.sha256, default: []].append(image.id) }
        var checks: [Check] = []

        checks.append(
            Check(
                name: "0. quiescence", passed: settled.quiet,
                figure: String(format: "%@ after %.0f s", settled.quiet ? "reached" : "NOT reached", settled.seconds)))

        // 1. Every final valid content stored exactly once; its newest job done with that id and variants.
        var details1: [String] = []
        let mustBeStored = model.mustBeStored
        let missing = mustBeStored.filter { (imagesBySHA[$0]?.count ?? 0) == 0 }
        let duplicated = imagesBySHA.filter { $0.value.count > 1 }
        let unknown = imagesBySHA.keys.filter { model.everValid[$0] == nil }
        for sha in missing.sorted().prefix(10) { details1.append("not stored: \(sha) (\(pathsHolding(sha)))") }
        for (sha, ids) in duplicated.prefix(10) { details1.append("stored \(ids.count)×: \(sha) ids \(ids)") }
        for sha in unknown.sorted().prefix(10) {
            let jobs = rows.filter { $0.sha256 == sha }.map {
                "job \($0.id) \($0.state) \(BytePaths.display($0.path).replacingOccurrences(of: world.root + "/", with: ""))"
            }
            details1.append("stored bytes that were never a valid file: \(sha) (\(jobs.joined(separator: ", ")))")
        }
        var wrongJobs = 0
        var pruned = 0
        for path in model.sortedPaths {
            guard let entry = model.live[path], let content = entry.content, content.valid else { continue }
            guard let job = newest[path] else {
                if let last = prunedAt.last, last > entry.writtenAt {
                    pruned += 1
                    continue
                }
                wrongJobs += 1
                details1.append("no job for \(BytePaths.display(path))")
                continue
            }
            // prune removed the job of these bytes; what is left is an older version's.
            if job.sha256 != content.sha256, let last = prunedAt.last, last > entry.writtenAt {
                pruned += 1
                continue
            }
            let id = imagesBySHA[content.sha256]?.first
            let variantsOK = variantsName(job.variants, id: job.imageID)
            if job.state != "done" || job.imageID == nil || job.imageID != id || !variantsOK
                || job.sha256 != content.sha256
            {
                wrongJobs += 1
                if wrongJobs <= 10 {
                    details1.append(
                        "job \(job.id) of \(BytePaths.display(path)): \(job.state), image \(job.imageID ?? "nil") vs stored \(id ?? "none"), variants ok \(variantsOK), error \(job.lastError ?? "")"
                    )
                }
            }
        }
        let duplicateCount = duplicated.values.reduce(0) { $0 + $1.count - 1 }
        checks.append(
            Check(
                name: "1. every final valid image stored exactly once, its newest job done with its id and variants",
                passed: missing.isEmpty && duplicated.isEmpty && unknown.isEmpty && wrongJobs == 0,
                figure:
                    "\(mustBeStored.count) distinct final images, \(record.images.count) stored, \(missing.count) lost, \(duplicateCount) duplicates, \(unknown.count) unknown, \(wrongJobs) wrong jobs, \(pruned) pruned",
                details: details1))

        // 2. Every bad file failed with a reason, none of its bytes sent.
        var details2: [String] = []
        var badFiles = 0
        var badWrong = 0
        for path in model.sortedPaths {
            guard let entry = model.live[path], !entry.valid else { continue }
            badFiles += 1
            let job = newest[path]
            if job?.state != "failed" || (job?.lastError ?? "").isEmpty {
                badWrong += 1
                if badWrong <= 10 {
                    details2.append(
                        "\(BytePaths.display(path)) (\(entry.content?.kind.rawValue ?? entry.special?.rawValue ?? "?")): job \(job.map { "\($0.id) \($0.state) '\($0.lastError ?? "")'" } ?? "none")"
                    )
                }
            }
        }
        let sentSHAs = Set(record.requests.compactMap(\.fileSHA256))
        let leaked = model.badBytes.intersection(sentSHAs).union(model.badBytes.intersection(imagesBySHA.keys))
        for sha in leaked.sorted().prefix(10) { details2.append("bad bytes reached the emulator: \(sha)") }
        checks.append(
            Check(
                name: "2. every bad file failed with a reason, none of its bytes reached the emulator",
                passed: badWrong == 0 && leaked.isEmpty,
                figure:
                    "\(badFiles) bad files now, \(model.badWrites) written, \(badWrong) not failed, \(leaked.count) sent",
                details: details2))

        checks.append(checkCopies(imagesBySHA: imagesBySHA))
        checks.append(checkTable(table: table, rows: rows))
        checks.append(checkWatchdog())
        checks.append(contentsOf: checkBudget(whole))
        checks.append(checkToken())
        checks.append(
            Check(
                name: "8. the daemon never died on its own; every operator command answered",
                passed: unexpectedExits.isEmpty && commandFailures.isEmpty,
                figure: "\(unexpectedExits.count) unexpected exits, \(commandFailures.count) command failures",
                details: Array((unexpectedExits + commandFailures).prefix(10))))
        return checks
    }

    /// What the driver did with these bytes (the journal's lines, times relative to the start).
    func pathsHolding(_ sha: String) -> String {
        model.mentions(sha).suffix(4).map { line -> String in
            let parts = line.split(separator: " ", maxSplits: 1)
            let at = (Double(parts[0]) ?? 0) - startedAt
            return String(format: "%.1fs ", at)
                + String(parts.count > 1 ? parts[1] : "").replacingOccurrences(of: sha, with: "…").replacingOccurrences(
                    of: world.root + "/", with: "")
        }.joined(separator: "; ")
    }

    /// The job's variants are URLs of its own image (one per variant).
    func variantsName(_ variants: String?, id: String?) -> Bool {
        guard let variants, let id, let urls = (try? JSONValueLite.parse(variants)) as? [String], !urls.isEmpty else {
            return false
        }
        return urls.allSatisfy { $0.contains("/" + id + "/") }
    }

    /// 3. Every original's bytes exist exactly once across the drop folders, done_dir and failed_dir; every
    /// sidecar names the image of the file beside it.
    func checkCopies(imagesBySHA: [String: [String]]) -> Check {
        var found: [String: Int] = [:]
        var sidecars: [([UInt8], [UInt8])] = []
        var details: [String] = []
        let sidecarSuffix = Array(".imagedrop.json".utf8)
        let reportSuffix = Array(".error.json".utf8)
        for tree in [BytePaths.parent(world.rootA), world.done, world.failed] {
            for entry in BytePaths.walk(tree) where entry.kind == .regular {
                if entry.path.count > sidecarSuffix.count,
                    Array(entry.path.suffix(sidecarSuffix.count)) == sidecarSuffix
                {
                    sidecars.append((entry.path, Array(entry.path.dropLast(sidecarSuffix.count))))
                    continue
                }
                if Array(entry.path.suffix(reportSuffix.count)) == reportSuffix { continue }
                guard let bytes = BytePaths.read(entry.path) else { continue }
                found[BytePaths.sha256(bytes), default: 0] += 1
            }
        }
        let (required, extra) = model.expectedCopies()
        var lost = 0
        var surplus = 0
        for sha in Set(required.keys).union(found.keys).sorted() {
            let need = required[sha] ?? 0
            let have = found[sha] ?? 0
            let may = extra[sha] ?? 0
            if have < need {
                lost += need - have
                if details.count < 10 {
                    details.append("\(need - have) of \(need) lost: \(sha) (\(pathsHolding(sha)))")
                }
            } else if have > need + may {
                surplus += have - need - may
                if details.count < 10 {
                    details.append(
                        "\(have) copies, expected \(need)\(may > 0 ? "…\(need + may)" : ""): \(sha) (\(pathsHolding(sha)))"
                    )
                }
            }
        }
        var badSidecars = 0
        for (sidecar, beside) in sidecars {
            let text = String(decoding: BytePaths.read(sidecar) ?? [], as: UTF8.self)
            let object = (try? JSONValueLite.parse(text)) as? [String: Any]
            let named = object?["id"] as? String
            let file = BytePaths.read(beside).map(BytePaths.sha256)
            let stored = file.flatMap { imagesBySHA[$0]?.first }
            if named == nil || file == nil || named != stored || (object?["sha256"] as? String) != file {
                badSidecars += 1
                if details.count < 10 {
                    details.append(
                        "sidecar \(BytePaths.display(sidecar)) names \(named ?? "nil"), the file beside is \(file == nil ? "missing" : "image \(stored ?? "not stored")")"
                    )
                }
            }
        }
        let requiredTotal = required.values.reduce(0, +)
        return Check(
            name:
                "3. every original exists exactly once across drop, done_dir, failed_dir; sidecars name their file's image",
            passed: lost == 0 && surplus == 0 && badSidecars == 0,
            figure:
                "\(requiredTotal) originals, \(found.values.reduce(0, +)) files found, \(lost) lost, \(surplus) extra, \(sidecars.count) sidecars, \(badSidecars) wrong",
            details: details)
    }

    /// 4. Nothing left uploading; integrity_check ok; the table's counts equal `status --json`'s.
    func checkTable(table: JobTable, rows: [JobTable.Row]) -> Check {
        let uploading = rows.filter { $0.state == "uploading" }.count
        let integrity = table.integrityCheck()
        let counts = table.counts() ?? [:]
        let status = command(["status", "--json"])
        let object = (try? JSONValueLite.parse(status.output)) as? [String: Any]
        let jobs = object?["jobs"] as? [String: Any] ?? [:]
        var mismatches: [String] = []
        for state in ["queued", "uploading", "retrying", "done", "failed"] {
            let reported = (jobs[state] as? NSNumber)?.intValue
            if reported != (counts[state] ?? 0) {
                mismatches.append(
                    "\(state): table \(counts[state] ?? 0), status \(reported.map(String.init) ?? "missing")")
            }
        }
        if (jobs["total"] as? NSNumber)?.intValue != rows.count {
            mismatches.append("total: table \(rows.count), status \(jobs["total"] ?? "missing")")
        }
        let summary = ["done", "failed", "queued", "retrying"].map { "\(counts[$0] ?? 0) \($0)" }.joined(
            separator: ", ")
        return Check(
            name: "4. nothing left uploading; integrity_check ok; table counts = status --json",
            passed: uploading == 0 && integrity == "ok" && mismatches.isEmpty,
            figure:
                "\(rows.count) jobs (\(summary)), \(uploading) uploading, integrity \(integrity), \(mismatches.count) count mismatches",
            details: mismatches)
    }

    /// 5. While a daemon was alive (READY=1 until the soak signalled it), WATCHDOG=1 never paused longer
    /// than WATCHDOG_USEC/2 plus a margin.
    func checkWatchdog() -> Check {
        // The daemon's loop turns about once a second, so a healthy gap is up to USEC/2 + 1 s; the margin
        // stays under USEC/2, so no gap that systemd would have killed it for is ever accepted.
        let limit = Double(World.watchdogMicros) / 2e6 + 2
        let pings = notify.datagrams.filter { $0.lines.contains("WATCHDOG=1") }.map(\.at)
        var worst = 0.0
        var silences: [String] = []
        var alive = 0.0
        for life in lives {
            guard let ready = life.readyAt else { continue }
            let end = life.endedAt ?? now
            guard end > ready else { continue }
            alive += end - ready
            var previous = ready
            for ping in pings where ping > ready && ping <= end {
                let gap = ping - previous
                worst = max(worst, gap)
                if gap > limit {
                    silences.append(
                        String(format: "pid %d silent %.1f s from %.1f s", life.pid, gap, previous - startedAt))
                }
                previous = ping
            }
            let tail = end - previous
            worst = max(worst, tail)
            if tail > limit {
                silences.append(
                    String(
                        format: "pid %d silent %.1f s from %.1f s until it was stopped", life.pid, tail,
                        previous - startedAt))
            }
        }
        return Check(
            name: "5. the watchdog never went silent longer than WATCHDOG_USEC/2 + 2 s while the daemon was alive",
            passed: silences.isEmpty,
            figure: String(
                format: "%d pings over %.0f s alive, longest silence %.1f s (limit %.1f s), %d silences", pings.count,
                alive, worst, limit, silences.count),
            details: Array(silences.prefix(10)))
    }

    /// Which daemon life a request (by the emulator's clock) belongs to.
    func life(atMicros micros: Int64) -> Int? {
        let at = Double(micros - realtimeOffsetMicros) / 1e6
        return lives.lastIndex { $0.spawnedAt <= at && at <= ($0.endedAt ?? .infinity) }
    }

    /// 6. The budget held in every window; no request inside a Retry-After.
    func checkBudget(_ record: EmulatorRecord) -> [Check] {
        let times = record.requests.map(\.micros).sorted()
        let window = Int64(World.windowSeconds) * 1_000_000
        var worst = 0
        var worstAt: Int64 = 0
        var over = 0
        var startIndex = 0
        var overAcrossRestart = 0
        for (index, time) in times.enumerated() {
            while times[startIndex] <= time - window { startIndex += 1 }
            let inWindow = index - startIndex + 1
            if inWindow > worst {
                worst = inWindow
                worstAt = time
            }
            if inWindow > World.requestsPerWindow {
                over += 1
                // A daemon started inside this window did not know what the one before had sent.
                let from = Double(time - window - realtimeOffsetMicros) / 1e6
                let to = Double(time - realtimeOffsetMicros) / 1e6
                if lives.contains(where: { $0.spawnedAt > from && $0.spawnedAt <= to }) { overAcrossRestart += 1 }
            }
        }
        // Requests whose head arrived within 250 ms of a 429 were on their way before the reply was read.
        let inFlightMicros: Int64 = 250_000
        var inside: [String] = []
        var acrossRestart = 0
        var redisDown = 0
        let sorted = record.requests.sorted { $0.micros < $1.micros }
        for (index, refusal) in sorted.enumerated() where refusal.status == 429 {
            guard let seconds = refusal.retryAfter.flatMap(Int64.init) else { continue }
            // A hint longer than backoff_max_ms is capped there (DESIGN: any wait is capped; Cloudflare blocks
            // for at most five minutes): the daemon owes the wait up to the cap, not beyond it.
            let owed = min(seconds * 1_000_000, World.backoffMaxMillis * 1000)
            let until = refusal.micros + owed - 100_000
            let owner = life(atMicros: refusal.micros)
            for later in sorted[(index + 1)...] {
                if later.micros >= until { break }
                if later.micros - refusal.micros < inFlightMicros { continue }
                // With Redis down a host knows only the blocks it saw itself (DESIGN, Fleet): not counted then.
                if let fleet, fleet.redisWasDown(at: Double(later.micros - realtimeOffsetMicros) / 1e6) {
                    redisDown += 1
                    continue
                }
                // A daemon restarted inside the block owes it too: the block is kept in its database.
                let restarted = life(atMicros: later.micros) != owner
                if restarted { acrossRestart += 1 }
                if inside.count < 1000 {
                    inside.append(
                        String(
                            format: "%@ %@ %.2f s after a 429 with Retry-After: %d%@", later.method,
                            later.path.split(separator: "/").suffix(2).joined(separator: "/"),
                            Double(later.micros - refusal.micros) / 1e6, seconds, restarted ? " (restarted daemon)" : ""
                        ))
                }
            }
        }
        let refused = record.requests.filter { $0.status == 429 }.count
        return [
            Check(
                name:
                    "6a. the request budget (\(World.requestsPerWindow) per \(World.windowSeconds) s) was never exceeded in any window"
                    + (fleet.map { " (the fleet of \($0.companions.count + 1) hosts as a whole)" } ?? ""),
                passed: over == 0,
                figure:
                    "\(record.requests.count) requests, busiest window \(worst) at \(String(format: "%.1f", Double(worstAt - realtimeOffsetMicros) / 1e6 - startedAt)) s, \(over) requests over the budget (\(overAcrossRestart) of them in a window where the daemon had restarted)"
            ),
            Check(
                name:
                    "6b. no request was sent inside a Retry-After, capped at backoff_max_ms (restarted daemons included)",
                passed: inside.isEmpty,
                figure:
                    "\(refused) 429s, \(inside.count) requests inside their Retry-After (\(acrossRestart) of them from a daemon restarted during it)"
                    + (fleet == nil ? "" : "; \(redisDown) more while Redis was down (not counted)"),
                details: Array(inside.prefix(10))),
        ]
    }

    /// 7. The token appears in no log, no file of the state folder and no command line.
    func checkToken() -> Check {
        var places = tokenSightings
        let token = Array(emulator.token.utf8)
        var scanned = 0
        var files = [Array(world.daemonLog.utf8), Array((world.root + "/commands.err").utf8)]
        files += BytePaths.walk(Array(world.state.utf8)).filter { $0.kind == .regular }.map(\.path)
        files += (BytePaths.walk(world.done) + BytePaths.walk(world.failed)).filter { $0.kind == .regular }.map(\.path)
        for path in files {
            guard let bytes = BytePaths.read(path) else { continue }
            scanned += 1
            if contains(bytes, token) { places.append(BytePaths.display(path)) }
        }
        return Check(
            name: "7. the token appears in no log, no file of the state folder and no command line",
            passed: places.isEmpty,
            figure: "\(scanned) files and \(lives.count) command lines scanned, \(places.count) sightings",
            details: places)
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
