import ImagedropSystem

/// One source: a group of drop folders with its own rules. Its settings are the top-level `[images]`,
/// `[watch]` and `[after_upload]` values with the source's own keys laid over them (resolved once, by the
/// loader), so a job never needs to know which values were overridden.
package struct SourceSettings: Sendable, Equatable {
    /// The source the top-level `[watch] paths` make, and the one jobs of a table from before sources belong to.
    package static let defaultName = "default"

    package var name: String
    package var images: Config.Images
    /// `paths` holds this source's own folders.
    package var watch: Config.Watch
    package var afterUpload: Config.AfterUpload

    package init(name: String, images: Config.Images, watch: Config.Watch, afterUpload: Config.AfterUpload) {
        self.name = name
        self.images = images
        self.watch = watch
        self.afterUpload = afterUpload
    }

    /// Source names: lowercase letters, digits, `_` and `-` (they appear in metrics labels and on command lines).
    package static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}

extension Config {
    /// The sources in force. A config built in code rather than loaded (tests) has no `sources`: its top-level
    /// settings are then the one source, `default`.
    package var resolvedSources: [SourceSettings] {
        guard sources.isEmpty else { return sources }
        return [
            SourceSettings(name: SourceSettings.defaultName, images: images, watch: watch, afterUpload: afterUpload)
        ]
    }

    package var sourceNames: [String] { resolvedSources.map(\.name) }

    /// The settings a job of `source` is treated by, or nil when no such source is configured (any more).
    package func effective(for source: String) -> SourceSettings? {
        resolvedSources.first { $0.name == source }
    }

    /// This config as a job of `source` sees it: `images`, `watch` and `afterUpload` are that source's
    /// effective settings, so every reader of them (ids, metadata, pre-flight, after-upload actions) follows
    /// the job's own source. nil when the source is not configured.
    package func scoped(to source: String) -> Config? {
        guard let settings = effective(for: source) else { return nil }
        // The usual case, one source whose settings are the top level's: the same config, no copy of its sections.
        if settings.images == images, settings.watch == watch, settings.afterUpload == afterUpload { return self }
        var scoped = self
        scoped.images = settings.images
        scoped.watch = settings.watch
        scoped.afterUpload = settings.afterUpload
        return scoped
    }

    /// The source whose folders hold `path` (sources never overlap, so there is at most one).
    package func source(containing path: RawPath) -> SourceSettings? {
        resolvedSources.first { source in source.watch.paths.contains { path.isInside(RawPath($0)) } }
    }
}
