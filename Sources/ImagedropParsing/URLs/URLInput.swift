import ImagedropSupport

/// One image URL for Cloudflare to fetch (the upload's `url` field). The daemon never downloads it itself.
/// `text` is the URL exactly as given (with any credentials: it is what is sent); `redacted` shows
/// `user:***@` in their place and is the only form that reaches the table's `path`, logs and output.
public struct URLInput: Sendable, Equatable {
    public let text: String
    public let redacted: String

    public static let maxBytes = 2048

    /// Checks the URL (http or https, a host, at most 2,048 bytes, no whitespace or control characters);
    /// the error says what is wrong without repeating the URL (it may hold a password).
    public init(_ raw: String) throws(URLInputError) {
        guard raw.utf8.count <= Self.maxBytes else {
            throw URLInputError("the URL is \(raw.utf8.count) bytes: over the \(Self.maxBytes)-byte limit")
        }
        guard !raw.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F
            || (0x80...0x9F).contains($0.value) })
        else { throw URLInputError("the URL contains whitespace or control characters") }
        let lower = raw.lowercased()
        let schemeLength: Int
        if lower.hasPrefix("https://") { schemeLength = 8 } else if lower.hasPrefix("http://") { schemeLength = 7 } else {
            throw URLInputError("not an http or https URL")
        }
        let afterScheme = raw.dropFirst(schemeLength)
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        let host: Substring
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw URLInputError("the URL's IPv6 host is not closed with \"]\"") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
        } else {
            host = hostPort.prefix { $0 != ":" }
        }
        guard !host.isEmpty else { throw URLInputError("the URL has no host") }
        text = raw
        redacted = Self.redact(raw)
    }

    /// `scheme://user:password@host/…` → `scheme://user:***@host/…`; URLs without a password are unchanged.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// The user-info part (`user:password`) that `redact` hides, for scrubbing it out of API messages.
    public var secretUserInfo: String? {
        guard text != redacted, let schemeEnd = text.range(of: "://") else { return nil }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return nil }
        return String(rest[..<at])
    }

    /// Removes the URL's password from a text about it (an API error message may quote the URL).
    public func scrub(_ message: String) -> String {
        guard let secret = secretUserInfo, let colon = secret.firstIndex(of: ":") else { return message }
        let password = secret[secret.index(after: colon)...]
        var scrubbed = message.replacingOccurrences(of: text, with: redacted)
        if !password.isEmpty { scrubbed = scrubbed.replacingOccurrences(of: String(password), with: "***") }
        return scrubbed
    }

    /// The custom id's content part for URL jobs: SHA-256 of the URL text, so one URL is one image.
    public var sha256: String { SHA256Hasher.hex(of: Array(text.utf8)) }
}

public struct URLInputError: Error, CustomStringConvertible, Sendable, Equatable {
    public let problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}

/// The list format shared by `enqueue --urls-from` and watched `*.urls` files: one URL a line, blank lines
/// and `#` comments ignored. Every line is checked before anything is queued, so one bad line queues nothing.
public enum URLList {
    public struct BadLine: Error, CustomStringConvertible, Sendable, Equatable {
        public let line: Int
        public let problem: String
        public init(line: Int, problem: String) {
            self.line = line
            self.problem = problem
        }
        public var description: String { "line \(line): \(problem)" }
    }

    public static func parse(_ text: String) throws(BadLine) -> [URLInput] {
        var urls: [URLInput] = []
        var number = 0
        // "\r\n" is one Character in Swift: both line ends are separators.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" })
            let content = String(trimmed.reversed())
            if content.isEmpty || content.hasPrefix("#") { continue }
            do {
                urls.append(try URLInput(content))
            } catch {
                throw BadLine(line: number, problem: error.problem)
            }
        }
        return urls
    }

    /// Whether a watched name is a URL list (`*.urls`), whatever `watch.include` says.
    public static func isListName(_ name: [UInt8]) -> Bool {
        let suffix = Array(".urls".utf8)
        guard name.count > suffix.count else { return false }
        return name.suffix(suffix.count).map { $0 | 0x20 } == suffix
    }
}
