import ImagedropStore
import Testing

/// Config keeps its sections in one shared box, copied on write (Config.swift): a snapshot is one reference, and a
/// change through any path must reach only the copy it was made on.
@Suite("Config copy-on-write")
struct ConfigCopyOnWriteTests {
    private func bump(_ config: inout Config) {
        config.upload.maxWorkers += 1
        config.watch.paths.append("/inout")
    }

    @Test("a change through a nested property, an inout argument or a key path reaches only the copy it was made on")
    func changesStayOnTheirCopy() {
        let original = Config()
        var changed = original
        changed.upload.maxWorkers = 3
        changed.watch.paths.append("/x")
        changed.sources.append(
            SourceSettings(
                name: "s", images: changed.images, watch: changed.watch, afterUpload: changed.afterUpload))
        #expect(original.upload.maxWorkers == Config().upload.maxWorkers)
        #expect(original.watch.paths == Config().watch.paths)
        #expect(original.sources.isEmpty)
        #expect(changed.upload.maxWorkers == 3 && changed.watch.paths.last == "/x" && changed.sources.count == 1)
        #expect(original == Config() && original != changed)

        var passed = changed
        bump(&passed)
        #expect(passed.upload.maxWorkers == 4 && passed.watch.paths.last == "/inout")
        #expect(changed.upload.maxWorkers == 3 && changed.watch.paths.last == "/x")

        let path: WritableKeyPath<Config, Int> = \Config.upload.maxWorkers
        var viaPath = changed
        viaPath[keyPath: path] = 9
        #expect(viaPath.upload.maxWorkers == 9 && changed.upload.maxWorkers == 3)

        // Equal values in separate boxes are equal; a copy made equal again compares equal.
        var rebuilt = Config()
        rebuilt.upload.maxWorkers = 3
        rebuilt.watch.paths.append("/x")
        rebuilt.sources = changed.sources
        #expect(rebuilt == changed)
    }

    @Test("snapshots taken while another thread replaces the shared config keep their own values")
    func snapshotsUnderReplacement() async {
        let shared = SharedConfig(Config())
        await withTaskGroup(of: Bool.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for index in 0..<2_000 {
                        var snapshot = shared.current
                        snapshot.upload.maxWorkers = task * 100_000 + index
                        snapshot.watch.paths.append("/t\(task)")
                        if index % 50 == 0 { shared.replace(snapshot) }
                        let expected = task * 100_000 + index
                        if snapshot.upload.maxWorkers != expected || snapshot.watch.paths.last != "/t\(task)" {
                            return false
                        }
                    }
                    return true
                }
            }
            for await kept in group { #expect(kept) }
        }
    }

    @Test("scoped(to:) is the config itself for a source with the top level's settings, a changed copy for another")
    func scopedCopiesOnlyWhenItDiffers() {
        var config = Config()
        config.sources = [
            SourceSettings(name: "default", images: config.images, watch: config.watch, afterUpload: config.afterUpload)
        ]
        var other = config.afterUpload
        other.onSuccess = .delete
        config.sources.append(
            SourceSettings(name: "other", images: config.images, watch: config.watch, afterUpload: other))
        #expect(config.scoped(to: "default") == config)
        let scoped = config.scoped(to: "other")
        #expect(scoped?.afterUpload.onSuccess == .delete && config.afterUpload.onSuccess != .delete)
        #expect(config.scoped(to: "missing") == nil)
        #expect(String(reflecting: config).contains("maxWorkers"), "\(String(reflecting: config))")
    }
}
