import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// Why a path has no job (`imagedrop show PATH`): the same rules the watcher applies, in the order it applies
/// them, so the answer names the rule — the watch folder, the excluding pattern, `include`, `recursive`, or
/// `settle_ms` — instead of a bare "no job".
package enum NoJobReason {
    package static func explain(
        _ path: RawPath, config: Config, nowNanos: Int64 = Timestamp.nowMillis() * 1_000_000
    ) -> String {
        let shown = path.display
        let status: FileStatus
        switch FileStatus.of(path, followSymlinks: false) {
        case .failure(let error): return "no job for path \(shown): it does not exist (\(error.message))"
        case .success(let found): status = found
        }
        let roots = config.watch.paths.map { RawPath($0) }
        guard let root = roots.first(where: { path.relative(to: $0) != nil }), let relative = path.relative(to: root)
        else {
            return
                "no job for path \(shown): it is outside every watched folder (watch.paths: \(config.watch.paths.joined(separator: ", "))); "
                + "queue it with `imagedrop enqueue`, or watch its folder"
        }
        // From here on, the rules of the source whose folder holds it.
        let config = config.source(containing: path).flatMap { config.scoped(to: $0.name) } ?? config
        if status.isDirectory {
            return
                "no job for path \(shown): it is a folder; jobs are files (`imagedrop enqueue` queues a folder's files)"
        }
        let filter = PathFilter(config: config.watch)
        let components = relative.bytes.split(separator: UInt8(ascii: "/")).map(Array.init)
        if components.count > 1, !config.watch.recursive {
            return "no job for path \(shown): it is in a subfolder of \(root.display) and watch.recursive = false"
        }
        var folder = root
        for component in components.dropLast() {
            folder = folder.appending(component)
            if let pattern = filter.excludingPattern(component) {
                return
                    "no job for path \(shown): its folder \(folder.display) is excluded by the pattern \"\(pattern)\" (watch.exclude)"
            }
        }
        let name = path.baseName
        if let pattern = filter.excludingPattern(name) {
            return "no job for path \(shown): its name is excluded by the pattern \"\(pattern)\" (watch.exclude)"
        }
        if !filter.isIncluded(name) {
            return "no job for path \(shown): its name is not a candidate: it matches none of watch.include "
                + "(\(config.watch.include.joined(separator: ", ")))"
        }
        let ageMillis = (nowNanos - status.mtimeNanos) / 1_000_000
        if ageMillis < Int64(config.watch.settleMillis) {
            return
                "no job for path \(shown): it is still settling (changed \(max(0, ageMillis)) ms ago; taken once unchanged for "
                + "watch.settle_ms = \(config.watch.settleMillis))"
        }
        return
            "no job for path \(shown): it is a candidate the daemon has not queued yet — is a daemon running (`imagedrop status`)? "
            + "The next rescan (watch.rescan_interval_s = \(config.watch.rescanIntervalSeconds)) or `imagedrop enqueue` queues it"
    }
}
