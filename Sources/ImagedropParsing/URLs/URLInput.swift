import ImagedropSupport

/// One image URL for Cloudflare to fetch (the upload's `url` field). The daemon never downloads it itself.
/// `text` is the URL exactly as given (with any credentials: it is what is sent); `redacted` hides the whole
/// user-info (`***@`, or `user:***@`) and is the only form that reaches the table's `path`, logs and output.
package struct URLInput: Sendable, Equatable {
    package let text: String
    package let redacted: String

    package static let maxBytes = 2048

    /// Checks the URL (http or https, a host, at most 2,048 bytes, no whitespace or control characters);
    /// the error says what is wrong without repeating the URL (it may hold a password).
    package init(_ raw: String) throws(URLInputError) {
        guard raw.utf8.count <= Self.maxBytes else {
            throw URLInputError("the URL is \(raw.utf8.count) bytes: over the \(Self.maxBytes)-byte limit")
        }
        guard
            !raw.unicodeScalars.contains(where: {
                $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F
                    || (0x80...0x9F).contains($0.value)
            })
        else { throw URLInputError("the URL contains whitespace or control characters") }
        let lower = raw.lowercased()
        let schemeLength: Int
        if lower.hasPrefix("https://") {
            schemeLength = 8
        } else if lower.hasPrefix("http://") {
            schemeLength = 7
        } else {
            throw URLInputError("not an http or https URL")
        }
        let afterScheme = raw.dropFirst(schemeLength)
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        let host: Substring
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw URLInputError("the URL's IPv6 host is not closed with \"]\"")
            }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
        } else {
            host = hostPort.prefix { $0 != ":" }
        }
        guard !host.isEmpty else { throw URLInputError("the URL has no host") }
        text = raw
        redacted = Self.redact(raw)
    }

    /// Any user-info hidden (`URLUserInfo`): `scheme://user:password@host/…` → `scheme://user:***@host/…`,
    /// `scheme://token@host/…` → `scheme://***@host/…`; a URL without user-info is unchanged.
    package static func redact(_ url: String) -> String {
        URLUserInfo(url)?.redacted ?? url
    }

    /// The URL with no user-info at all: the `source_url` sent to Cloudflare in the image's metadata, which
    /// needs no credential (only the `url` field, which Cloudflare fetches, carries it).
    package var withoutCredentials: String {
        URLUserInfo(text)?.withoutUserInfo ?? text
    }

    /// What `scrub` replaces, longest first (a secret inside the user-info must not be replaced before the
    /// user-info that holds it): the whole user-info by its shown form (`user:***` or `***`), and the secret
    /// part (password, or the user-info itself when it is a token) by `***` — each also percent-decoded, as
    /// an API message may quote the URL either way.
    package var scrubbedTexts: [(text: String, replacement: String)] {
        guard let info = URLUserInfo(text) else { return [] }
        let shown = info.shownUser.map { $0 + ":***" } ?? "***"
        var pairs: [(text: String, replacement: String)] = []
        let parts = [
            (String(info.userInfo), shown), (String(info.secret), "***"), (String(info.hiddenUser ?? ""), "***"),
        ]
        for (part, replacement) in parts where !part.isEmpty {
            for form in [part, PercentEncoding.decode(part) ?? part] where !pairs.contains(where: { $0.text == form }) {
                pairs.append((form, replacement))
            }
        }
        return pairs.sorted { $0.text.utf8.count > $1.text.utf8.count }
    }

    /// Removes the URL's credential from a text about it (an API error message may quote the URL): the URL
    /// becomes its redacted form, and any other appearance of the user-info or its secret is hidden the same way.
    package func scrub(_ message: String) -> String {
        var scrubbed = message.replacing(text, with: redacted)
        for (secret, replacement) in scrubbedTexts { scrubbed = scrubbed.replacing(secret, with: replacement) }
        return scrubbed
    }

    /// The custom id's content part for URL jobs: SHA-256 of the URL text, so one URL is one image.
    package var sha256: String { SHA256Hasher.hex(of: Array(text.utf8)) }
}

package struct URLInputError: Error, CustomStringConvertible, Sendable, Equatable {
    package let problem: String
    package init(_ problem: String) { self.problem = problem }
    package var description: String { problem }
}

/// The list format shared by `enqueue --urls-from` and watched `*.urls` files: one URL a line, blank lines
/// and `#` comments ignored. Every line is checked before anything is queued, so one bad line queues nothing.
package enum URLList {
    package struct BadLine: Error, CustomStringConvertible, Sendable, Equatable {
        package let line: Int
        package let problem: String
        package init(line: Int, problem: String) {
            self.line = line
            self.problem = problem
        }
        package var description: String { "line \(line): \(problem)" }
    }

    package static func parse(_ text: String) throws(BadLine) -> [URLInput] {
        var urls: [URLInput] = []
        var number = 0
        // "\r\n" is one Character in Swift: both line ends are separators.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: {
                $0 == " " || $0 == "\t"
            })
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
    package static func isListName(_ name: [UInt8]) -> Bool {
        let suffix = Array(".urls".utf8)
        guard name.count > suffix.count else { return false }
        return name.suffix(suffix.count).map { $0 | 0x20 } == suffix
    }
}
