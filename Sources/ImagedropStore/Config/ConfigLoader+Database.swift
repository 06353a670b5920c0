import FoundationEssentials
import ImagedropSupport
import ImagedropSystem
import TOMLKit

/// The one key the read-only commands (`status`, `list`, `show`, `export`) need: `[queue] database`. They must
/// answer while the file on disk is broken — an operator mid-edit, or a reload the daemon refused, is exactly
/// when "what is the daemon doing?" is asked — so when the whole file does not load, this reads that one key
/// from whatever is readable of it, and the command warns that the rest of the file is broken.
extension ConfigLoader {
    /// For a config file that exists and was read but does not load: the resolved `queue.database` it names, or
    /// the default when it names none. nil when the file itself cannot be read (there is nothing to go on).
    package static func databaseFallback(path given: String) -> String? {
        let path = RawPath.absolute(given).display
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        let queue = TOMLSection(table: nil, name: "queue", file: path)
        let named: String?
        if let root = try? TOMLTable(string: text) {
            // The TOML parses; some other key is what failed validation.
            named = root["queue"]?.tomlValue.table?["database"]?.tomlValue.string
        } else {
            named = scanQueueDatabase(text)
        }
        return named.flatMap { $0.isEmpty ? nil : queue.resolvePath($0) } ?? Config().queue.database
    }

    /// `database = "…"` (or `'…'`) in the `[queue]` table, or `queue.database = …` before any table, found line by
    /// line in a file TOML cannot parse (a syntax error elsewhere must not hide it).
    package static func scanQueueDatabase(_ text: String) -> String? {
        var table: String? = nil
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmed(newlines: false)
            if line.hasPrefix("[") {
                let name = line.drop { $0 == "[" }.prefix { $0 != "]" }
                table = name.trimmed(newlines: false)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmed(newlines: false).replacing(" ", with: "")
            guard (table == "queue" && key == "database") || (table == nil && key == "queue.database") else { continue }
            return quotedValue(line[line.index(after: equals)...].trimmed(newlines: false))
        }
        return nil
    }

    /// The string a TOML basic (`"…"`, with `\"` and `\\` escapes) or literal (`'…'`) string spells.
    private static func quotedValue(_ text: String) -> String? {
        guard let quote = text.first, quote == "\"" || quote == "'" else { return nil }
        var value = ""
        var escaped = false
        for character in text.dropFirst() {
            if escaped {
                value.append(character)
                escaped = false
            } else if character == "\\", quote == "\"" {
                escaped = true
            } else if character == quote {
                return value
            } else {
                value.append(character)
            }
        }
        return nil
    }
}
