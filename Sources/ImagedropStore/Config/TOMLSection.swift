import FoundationEssentials
import ImagedropSupport
import ImagedropSystem
import TOMLKit

/// One table of the config file, read with types checked and the key's full name in every error.
package struct TOMLSection {
    package let table: TOMLTable?
    package let name: String?
    package let file: String

    package func fullName(_ key: String) -> String { name.map { "\($0).\(key)" } ?? key }

    package func error(_ key: String, _ problem: String) -> ConfigError {
        ConfigError(file: file, key: fullName(key), problem: problem)
    }

    package func rejectUnknown(allowed: Set<String>) throws {
        guard let table else { return }
        for key in table.keys.sorted() where !allowed.contains(key) {
            if let hint = KeyHints.misplaced(fullName(key)) { throw error(key, hint) }
            let known = allowed.sorted().joined(separator: ", ")
            let nearest = KeyHints.nearest(to: key, among: allowed).map { "did you mean \(fullName($0))? " } ?? ""
            throw error(key, "unknown key (\(nearest)known keys here: \(known))")
        }
    }

    package func section(_ key: String) throws -> TOMLSection {
        guard let value = table?[key] else { return TOMLSection(table: nil, name: fullName(key), file: file) }
        guard let nested = value.tomlValue.table else { throw error(key, "must be a table ([\(key)])") }
        return TOMLSection(table: nested, name: fullName(key), file: file)
    }

    private func value(_ key: String) -> TOMLValue? { table?[key]?.tomlValue }

    package func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value.string else { throw error(key, "must be a string (got \(Self.shown(value)))") }
        return string
    }

    package func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard let bool = value.bool else { throw error(key, "must be true or false (got \(Self.shown(value)))") }
        return bool
    }

    package func int(_ key: String, min: Int? = nil, max: Int? = nil) throws -> Int? {
        guard let value = value(key) else { return nil }
        let range = min.map { min in max.map { "; allowed: \(min) to \($0)" } ?? "" } ?? ""
        guard let number = value.int else {
            throw error(key, "must be a whole number (got \(Self.shown(value)))\(range)")
        }
        if let min, number < min { throw error(key, "must be at least \(min) (got \(number))\(range)") }
        if let max, number > max { throw error(key, "must be at most \(max) (got \(number))\(range)") }
        return number
    }

    package func strings(_ key: String) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard let array = value.array else {
            throw error(key, "must be an array of strings (got \(Self.shown(value)))")
        }
        return try array.map { element in
            guard let string = element.tomlValue.string else {
                throw error(key, "must be an array of strings (got \(Self.shown(element.tomlValue)) in it)")
            }
            return string
        }
    }

    /// A value as an error shows it: strings quoted (so `"4x"` and `4` differ), other kinds by value or kind.
    package static func shown(_ value: TOMLValue) -> String {
        if let string = value.string { return "\"\(string)\"" }
        if let bool = value.bool { return "\(bool)" }
        if let int = value.int { return "\(int)" }
        if let double = value.double { return "\(double)" }
        if value.array != nil { return "an array" }
        if value.table != nil { return "a table" }
        return "a date or time"
    }

    /// An http(s) URL. An API root (`api_base_url`) loses its trailing slashes, since paths are appended to it;
    /// a URL used as it is (`keepingTrailingSlash`: the webhook's) stays exactly as written — `/hook/` and
    /// `/hook` are different resources to many servers.
    package func url(_ key: String, _ value: String, keepingTrailingSlash: Bool = false) throws -> String {
        guard value.hasPrefix("https://") || value.hasPrefix("http://") else {
            throw error(key, "must be an http:// or https:// URL (got \"\(value)\")")
        }
        guard !keepingTrailingSlash else { return value }
        var trimmed = value
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// An inline table converted to compact JSON (string, number, boolean and nested table values).
    package func inlineJSON(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let table = value.table else {
            throw error(key, "must be an inline table, e.g. { source = \"drop-folder\" }")
        }
        let object = try jsonObject(table, key: key)
        return try JSONWriter.string(object, options: [.sortedKeys])
    }

    private func jsonObject(_ table: TOMLTable, key: String) throws -> [String: Any] {
        var object: [String: Any] = [:]
        for name in table.keys {
            guard let element = table[name]?.tomlValue else { continue }
            object[name] = try jsonValue(element, key: key)
        }
        return object
    }

    private func jsonValue(_ element: TOMLValue, key: String) throws -> Any {
        if let string = element.string { return string }
        if let bool = element.bool { return bool }
        if let int = element.int { return int }
        if let double = element.double { return double }
        if let nested = element.table { return try jsonObject(nested, key: key) }
        if let array = element.array { return try array.map { try jsonValue($0.tomlValue, key: key) } }
        throw error(key, "values must be strings, numbers, booleans, arrays or tables")
    }
}
