import Testing

@testable import ImagedropStore

/// `run --once --include/--exclude`: patterns for one run, laid over the loaded config.
@Suite("Pattern override")
struct PatternOverrideTests {
    @Test("--include/--exclude replace the patterns of the top level and of every source, each list only when given")
    func patternOverride() {
        var config = Config()
        config.watch.include = ["*.jpg"]
        config.watch.exclude = [".*"]
        var avatars = SourceSettings(name: "avatars", images: .init(), watch: .init(), afterUpload: .init())
        avatars.watch.include = ["*.png"]
        config.sources = [
            SourceSettings(name: "default", images: .init(), watch: config.watch, afterUpload: .init()), avatars,
        ]
        let both = PatternOverride(include: ["*.webp"], exclude: ["tmp-*"]).apply(to: config)
        #expect(both.resolvedSources.allSatisfy { $0.watch.include == ["*.webp"] && $0.watch.exclude == ["tmp-*"] })
        #expect(both.watch.include == ["*.webp"])
        let includeOnly = PatternOverride(include: ["*.gif"], exclude: nil).apply(to: config)
        #expect(includeOnly.resolvedSources.map(\.watch.exclude) == [[".*"], Config.Watch().exclude])
        #expect(includeOnly.resolvedSources.allSatisfy { $0.watch.include == ["*.gif"] })
    }
}
