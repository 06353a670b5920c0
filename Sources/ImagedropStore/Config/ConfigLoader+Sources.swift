import Glibc
import ImagedropSystem
import TOMLKit

/// `[images]`, `[watch]` and `[after_upload]`, read the same way at the top level and inside a `[[source]]`
/// table (where their keys sit flat and override the top-level values), and the sources themselves.
///
/// Errors name a source's key as `source "NAME".key`; a source whose name itself is wrong (so it cannot be
/// named) is `source[N]` (its position among the `[[source]]` tables, from 1).
extension ConfigLoader {
    package static let imagesKeys: Set<String> = ["id", "id_prefix", "require_signed_urls", "creator", "metadata"]
    /// `[watch]` keys a source may override: all but `paths` (a source has its own).
    package static let watchKeys: Set<String> = [
        "recursive", "include", "exclude", "settle_ms", "rescan_interval_s", "follow_symlinks_outside",
    ]
    package static let afterUploadKeys: Set<String> = ["on_success", "on_failure", "done_dir", "failed_dir", "sidecar"]

    package static func images(_ section: TOMLSection, over base: Config.Images) throws -> Config.Images {
        var images = base
        if let mode = try section.string("id") {
            guard let parsed = Config.IDMode(rawValue: mode) else {
                throw section.error("id", "must be \"content-hash\", \"path\" or \"cloudflare\" (got \"\(mode)\")")
            }
            images.idMode = parsed
        }
        images.idPrefix = try section.string("id_prefix") ?? base.idPrefix
        if images.idPrefix.hasPrefix("/") { throw section.error("id_prefix", "must not start with \"/\"") }
        images.requireSignedURLs = try section.bool("require_signed_urls") ?? base.requireSignedURLs
        images.creator = try section.string("creator") ?? base.creator
        if let creator = images.creator, creator.utf8.count > 1024 {
            throw section.error("creator", "must be at most 1024 bytes")
        }
        if let metadata = try section.inlineJSON("metadata") {
            guard metadata.utf8.count <= ImageMetadata.limit else {
                throw section.error(
                    "metadata", "is \(metadata.utf8.count) bytes as JSON: over Cloudflare's 1024-byte limit")
            }
            images.metadataJSON = metadata
        }
        return images
    }

    /// Every `[watch]` key but `paths`.
    package static func watch(_ section: TOMLSection, over base: Config.Watch) throws -> Config.Watch {
        var watch = base
        watch.recursive = try section.bool("recursive") ?? base.recursive
        if let include = try section.strings("include") { watch.include = include }
        if let exclude = try section.strings("exclude") { watch.exclude = exclude }
        // Upper bounds refuse typos (a settle_ms of years would hold every file forever) with the allowed range.
        watch.settleMillis = try section.int("settle_ms", min: 0, max: 3_600_000) ?? base.settleMillis
        watch.rescanIntervalSeconds =
            try section.int("rescan_interval_s", min: 0, max: 604_800) ?? base.rescanIntervalSeconds
        watch.followSymlinksOutside = try section.bool("follow_symlinks_outside") ?? base.followSymlinksOutside
        return watch
    }

    package static func afterUpload(_ section: TOMLSection, over base: Config.AfterUpload) throws -> Config.AfterUpload
    {
        var after = base
        if let value = try section.string("on_success") {
            guard let action = Config.SuccessAction(rawValue: value) else {
                throw section.error("on_success", "must be \"keep\", \"delete\" or \"move\" (got \"\(value)\")")
            }
            after.onSuccess = action
        }
        if let value = try section.string("on_failure") {
            guard let action = Config.FailureAction(rawValue: value) else {
                throw section.error("on_failure", "must be \"keep\" or \"move\" (got \"\(value)\")")
            }
            after.onFailure = action
        }
        after.doneDir = try section.path("done_dir") ?? base.doneDir
        after.failedDir = try section.path("failed_dir") ?? base.failedDir
        after.sidecar = try section.bool("sidecar") ?? base.sidecar
        if after.onSuccess == .move, after.doneDir == nil {
            throw section.error("done_dir", "required when on_success = \"move\"")
        }
        if after.onFailure == .move, after.failedDir == nil {
            throw section.error("failed_dir", "required when on_failure = \"move\"")
        }
        return after
    }

    /// A source's folders: required, resolved against the config file's folder, and (for `run`/`check`)
    /// existing directories.
    package static func watchPaths(_ section: TOMLSection, checkFolders: Bool) throws -> [String] {
        guard let paths = try section.strings("paths"), !paths.isEmpty else {
            throw section.error("paths", "required (one or more folders to watch)")
        }
        let resolved = paths.map { section.resolvePath($0) }
        if let overlap = WatchPathNesting.firstOverlap(in: resolved) { throw section.error("paths", "\(overlap)") }
        if checkFolders {
            for (given, absolute) in zip(paths, resolved) {
                var info = stat()
                guard stat(absolute, &info) == 0 else {
                    throw section.error("paths", "\(TOMLSection.shown(given, absolute)) does not exist")
                }
                guard (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw section.error("paths", "\(TOMLSection.shown(given, absolute)) is not a directory")
                }
            }
        }
        return resolved
    }

    /// Builds `config.sources`: `default` from the top-level `[watch] paths` (when given), then every
    /// `[[source]]`; checks names, overlaps and path-id collisions across them; sets `watch.paths` to all
    /// of their folders.
    package static func resolveSources(
        _ top: TOMLSection, watch: TOMLSection, after: TOMLSection, config: inout Config,
        checkFolders: Bool
    ) throws {
        var sections: [String: TOMLSection] = [:]  // where each source's keys are, for errors found later
        var sources: [SourceSettings] = []
        let hasTopLevelPaths = watch.table?["paths"] != nil
        if hasTopLevelPaths {
            var settings = config.watch
            settings.paths = try watchPaths(watch, checkFolders: checkFolders)
            sources.append(
                SourceSettings(
                    name: SourceSettings.defaultName, images: config.images, watch: settings,
                    afterUpload: config.afterUpload))
            sections[SourceSettings.defaultName] = watch
        }
        if let value = top.table?["source"] {
            guard let array = value.tomlValue.array else {
                throw top.error("source", "must be an array of tables: write each source as [[source]]")
            }
            for (index, element) in array.enumerated() {
                guard let table = element.tomlValue.table else {
                    throw top.error("source[\(index + 1)]", "must be a table ([[source]])")
                }
                let unnamed = TOMLSection(table: table, name: "source[\(index + 1)]", file: top.file)
                guard let name = try unnamed.string("name") else {
                    throw unnamed.error("name", "required (lowercase letters, digits, _ and -)")
                }
                guard SourceSettings.isValidName(name) else {
                    throw unnamed.error("name", "\"\(name)\" must match [a-z0-9_-]+")
                }
                if sources.contains(where: { $0.name == name }) {
                    let why =
                        name == SourceSettings.defaultName && hasTopLevelPaths
                        ? "the top-level [watch] paths already are the source \"default\"; rename this one or move those paths here"
                        : "two sources are named \"\(name)\"; names must be unique"
                    throw unnamed.error("name", why)
                }
                let section = TOMLSection(table: table, name: "source \"\(name)\"", file: top.file)
                try section.rejectUnknown(
                    allowed: imagesKeys.union(watchKeys).union(afterUploadKeys).union(["name", "paths"]))
                var settings = try Self.watch(section, over: config.watch)
                settings.paths = try watchPaths(section, checkFolders: checkFolders)
                sources.append(
                    SourceSettings(
                        name: name, images: try images(section, over: config.images), watch: settings,
                        afterUpload: try afterUpload(section, over: config.afterUpload)))
                sections[name] = section
            }
        }
        guard !sources.isEmpty else {
            throw watch.error("paths", "required (one or more folders to watch, here or in [[source]] tables)")
        }
        try checkOverlaps(sources, sections: sections)
        try resolvePathIDRoots(&sources, sections: sections)
        config.sources = sources
        config.watch.paths = sources.flatMap(\.watch.paths)

        for source in sources {
            let section = sections[source.name]!
            // The default's after_upload keys are the top-level ones: name them so.
            let keys = source.name == SourceSettings.defaultName && section.name == watch.name ? after : section
            for (key, directory) in [
                ("done_dir", source.afterUpload.doneDir), ("failed_dir", source.afterUpload.failedDir),
            ] {
                guard let directory else { continue }
                // A destination inside a watched tree (any source's) would feed moved files back to the watcher.
                if let root = config.watch.paths.first(where: { RawPath(directory).isInside(RawPath($0)) }) {
                    let owner = keys.table?[key] != nil ? keys : after
                    throw owner.error(
                        key, "\"\(directory)\" is inside the watched folder \"\(root)\"; choose a folder outside it")
                }
            }
        }
    }

    /// Two sources may not watch the same folder or one inside the other: a file there would have two sets
    /// of rules.
    package static func checkOverlaps(_ sources: [SourceSettings], sections: [String: TOMLSection]) throws {
        for (index, source) in sources.enumerated() {
            for other in sources[..<index] {
                for path in source.watch.paths {
                    for otherPath in other.watch.paths {
                        let a = RawPath(path).lexicallyNormalized
                        let b = RawPath(otherPath).lexicallyNormalized
                        guard a.isInside(b) || b.isInside(a) else { continue }
                        let relation =
                            a == b
                            ? "is also watched by"
                            : (a.isInside(b) ? "lies inside \"\(b.display)\" of" : "contains \"\(b.display)\" of")
                        throw sections[source.name]!.error(
                            "paths",
                            "\"\(a.display)\" \(relation) source \"\(other.name)\"; sources may not watch the same or nested folders"
                        )
                    }
                }
            }
        }
    }

    /// Path ids name the file below its root; sources that share an id space (path ids, the same
    /// `id_prefix`) must then have roots whose names differ and do not nest (`ImageIDStrategy.pathIDConflict`,
    /// the rule for several roots of one source), and their ids carry the root's name.
    package static func resolvePathIDRoots(_ sources: inout [SourceSettings], sections: [String: TOMLSection]) throws {
        func usesPathIDs(_ source: SourceSettings) -> Bool {
            source.images.idMode == .path && !source.images.requireSignedURLs
        }
        for index in sources.indices {
            let source = sources[index]
            if source.images.idMode == .path, let conflict = ImageIDStrategy.pathIDConflict(roots: source.watch.paths) {
                throw sections[source.name]!.error("paths", conflict)
            }
            guard usesPathIDs(source) else { continue }
            let group = sources.filter { usesPathIDs($0) && $0.images.idPrefix == source.images.idPrefix }
            let roots = group.flatMap(\.watch.paths)
            if group.count > 1, let conflict = ImageIDStrategy.pathIDConflict(roots: roots) {
                let names = group.map { "\"\($0.name)\"" }.joined(separator: ", ")
                throw sections[source.name]!.error(
                    "paths",
                    "\(conflict) (sources \(names) share id_prefix \"\(source.images.idPrefix)\"; give each its own)")
            }
            sources[index].images.idRoots = roots
        }
    }
}
