/// Help for an unknown config key: the nearest known key (a typo), or why a key that people try does not
/// exist (the token in the config file).
package enum KeyHints {
    /// The allowed key closest to `key` by edit distance, when it is close enough to be a typo: at most a
    /// third of the key's length (at least 1, at most 3 edits), or a key that contains the other.
    package static func nearest(to key: String, among allowed: Set<String>) -> String? {
        let limit = min(3, max(1, key.count / 3))
        let scored = allowed.map { ($0, distance(key, $0)) }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        if let best = scored.first, best.1 <= limit { return best.0 }
        guard key.count >= 4 else { return nil }
        return allowed.sorted().first { $0.contains(key) || key.contains($0) }
    }

    /// Keys people reach for that must not exist, with where the setting goes instead. The token's value is
    /// never repeated: the error line may end up in a ticket.
    package static func misplaced(_ fullName: String) -> String? {
        switch fullName {
        case "cloudflare.api_token", "cloudflare.token", "cloudflare.api_key":
            return "the API token does not go in the config file (it is often world-readable, copied to backups "
                + "and version control): put it in a file only the daemon's user may read (chmod 600) and name "
                + "that file with cloudflare.api_token_file, or use systemd LoadCredential=cloudflare-api-token, "
                + "or the environment variable CLOUDFLARE_API_TOKEN"
        case "http.token", "http.bearer_token":
            return "the bearer token does not go in the config file: put it in a file only the daemon's user may read "
                + "(chmod 600) and name that file with http.token_file"
        default:
            return nil
        }
    }

    /// Levenshtein distance over characters.
    package static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(
                    previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
