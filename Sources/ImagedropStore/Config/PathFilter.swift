import Glibc
import ImagedropParsing

/// Which names are candidates (`watch.include`) and which are ignored outright (`watch.exclude`), matched
/// with shell globs against the base name. Excluded names get no job at all; excluded folder names (".*"
/// by default: .git, .Trash, editors' temp folders) are not descended into.
package struct PathFilter: Sendable, Equatable {
    package var include: [String]
    package var exclude: [String]

    package init(include: [String], exclude: [String]) {
        self.include = include
        self.exclude = exclude
    }

    package init(config: Config.Watch) { self.init(include: config.include, exclude: config.exclude) }

    /// `*.urls` lists are candidates too, whatever `include` says: they queue URL jobs (DESIGN.md, Inputs).
    package func acceptsFile(_ name: [UInt8]) -> Bool {
        !matchesAny(exclude, name) && (matchesAny(include, name) || URLList.isListName(name))
    }

    package func acceptsDirectory(_ name: [UInt8]) -> Bool { !matchesAny(exclude, name) }

    /// The `exclude` pattern that keeps this name out, for `show`'s "why is there no job".
    package func excludingPattern(_ name: [UInt8]) -> String? { firstMatch(exclude, name) }

    package func isIncluded(_ name: [UInt8]) -> Bool { matchesAny(include, name) }

    /// Why a file name is not a candidate, for the watcher's debug lines; nil when it is one.
    package func whyIgnored(_ name: [UInt8]) -> String? {
        if let pattern = excludingPattern(name) { return "excluded by the pattern \"\(pattern)\" (watch.exclude)" }
        if acceptsFile(name) { return nil }
        return "matches none of watch.include (\(include.joined(separator: ", ")))"
    }

    private func matchesAny(_ patterns: [String], _ name: [UInt8]) -> Bool { firstMatch(patterns, name) != nil }

    private func firstMatch(_ patterns: [String], _ name: [UInt8]) -> String? {
        var zeroTerminated = name
        zeroTerminated.append(0)
        return zeroTerminated.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { cName in
                // Case-insensitive: cameras write IMG_0001.JPG as often as photo.jpg.
                patterns.first { fnmatch($0, cName, FNM_PERIOD | fnmCaseFold) == 0 }
            }
        }
    }
}

/// GNU's FNM_CASEFOLD (1 << 4), not exported to Swift by Glibc's module.
private let fnmCaseFold: Int32 = 1 << 4
