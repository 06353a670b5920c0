import Foundation
import ImagedropTestSupport
import Testing

@testable import ImagedropStore

@Suite("HTTP config")
struct HTTPConfigTests {
    static func parse(_ section: String) throws -> Config.HTTP {
        let text = """
            [cloudflare]
            account_id = "023e105f4ecef8ad9ca31a8372d0c353"
            [watch]
            paths = ["/tmp"]
            [http]
            \(section)
            """
        return try ConfigLoader.parse(text, path: "test.toml", checkFolders: false).http
    }

    @Test("listen forms: IPv4, [IPv6], unix socket")
    func forms() throws {
        #expect(try Self.parse(#"listen = "127.0.0.1:9731""#).listen == .tcp(host: "127.0.0.1", port: 9731))
        #expect(try Self.parse(#"listen = "[::1]:9731""#).listen == .tcp(host: "::1", port: 9731))
        #expect(
            try Self.parse(#"listen = "unix:/run/imagedrop/http.sock""#).listen
                == .unix(path: "/run/imagedrop/http.sock"))
        #expect(try Self.parse("actions = true").listen == nil)
    }

    @Test("refused: names, bad ports, relative sockets, and remote addresses without allow_remote")
    func refused() throws {
        for bad in [
            #"listen = "localhost:9731""#, #"listen = "127.0.0.1:99999""#, #"listen = "127.0.0.1""#,
            #"listen = "unix:run/x.sock""#, #"listen = "0.0.0.0:9731""#, #"listen = "[::]:9731""#,
            #"listen = "192.168.1.5:80""#,
        ] {
            #expect(throws: ConfigError.self, "\(bad)") { try Self.parse(bad) }
        }
        #expect(
            try Self.parse("listen = \"0.0.0.0:9731\"\nallow_remote = true").listen == .tcp(host: "0.0.0.0", port: 9731)
        )
        #expect(Config.HTTP.isLoopback("127.1.2.3") && Config.HTTP.isLoopback("::ffff:127.0.0.1"))
        #expect(!Config.HTTP.isLoopback("::2"))
    }
}

extension HTTPConfigTests {
    /// Parsed as `run` and `check` parse it: files named in the config are read.
    static func load(_ section: String) throws -> Config.HTTP {
        let text = """
            [cloudflare]
            account_id = "023e105f4ecef8ad9ca31a8372d0c353"
            [watch]
            paths = ["/tmp"]
            [http]
            \(section)
            """
        return try ConfigLoader.parse(text, path: "/tmp/test.toml", checkFolders: true).http
    }

    static func problem(_ section: String) -> String {
        do {
            _ = try load(section)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test("the new keys' defaults: no extra hosts, 64 connections, 10 s per request, no token")
    func defaults() throws {
        let http = try Self.parse(#"listen = "127.0.0.1:9731""#)
        #expect(http.allowedHosts.isEmpty && http.maxConnections == 64 && http.requestTimeoutSeconds == 10)
        #expect(http.tokenFile == nil && http.token == nil)
        let set = try Self.parse(
            """
            allowed_hosts = ["Status.Example.com", "192.168.1.5:9731", "[FE80::1]:8443", "[::1]"]
            max_connections = 4096
            request_timeout_s = 1
            """)
        #expect(set.allowedHosts == ["status.example.com", "192.168.1.5:9731", "[fe80::1]:8443", "[::1]"])
        #expect(set.maxConnections == 4096 && set.requestTimeoutSeconds == 1)
    }

    @Test("out of range or malformed: one line naming the key, the value and what is allowed")
    func refusedValues() {
        let cases: [(String, String)] = [
            ("max_connections = 0", "http.max_connections: must be at least 1 (got 0); allowed: 1 to 4096"),
            ("max_connections = 4097", "http.max_connections: must be at most 4096 (got 4097); allowed: 1 to 4096"),
            (
                "max_connections = \"64\"",
                "http.max_connections: must be a whole number (got \"64\"); allowed: 1 to 4096"
            ),
            ("request_timeout_s = 0", "http.request_timeout_s: must be at least 1 (got 0); allowed: 1 to 120"),
            ("request_timeout_s = 3600", "http.request_timeout_s: must be at most 120 (got 3600); allowed: 1 to 120"),
            ("allowed_hosts = \"example.com\"", "http.allowed_hosts: must be an array of strings"),
            ("allowed_hosts = [\"*\"]", "http.allowed_hosts: \"*\" is not a host name"),
            ("allowed_hosts = [\"*.example.com\"]", "http.allowed_hosts: \"*.example.com\" is not a host name"),
            (
                "allowed_hosts = [\"https://example.com\"]",
                "http.allowed_hosts: \"https://example.com\" is not a host: write the name alone"
            ),
            ("allowed_hosts = [\"\"]", "http.allowed_hosts: \"\" is not a host name"),
            ("allowed_hosts = [\"fe80::1\"]", "http.allowed_hosts: \"fe80::1\": write an IPv6 address in brackets"),
            ("allowed_hosts = [\"[::1\"]", "http.allowed_hosts: \"[::1\" is not a bracketed IPv6 address"),
            ("allowed_hosts = [\"[1.2.3.4]\"]", "http.allowed_hosts: \"[1.2.3.4]\" is not a bracketed IPv6 address"),
            (
                "allowed_hosts = [\"example.com:0\"]",
                "http.allowed_hosts: \"example.com:0\" has a port that is not 1–65535"
            ),
            ("allowed_hosts = [\"example.com:99999999999999999999\"]", "has a port that is not 1–65535"),
            ("allowed_hosts = [\"exa mple.com\"]", "is not a host name"),
            ("token = \"abc\"", "http.token: the bearer token does not go in the config file"),
        ]
        for (section, expected) in cases {
            let problem = Self.problem(section)
            #expect(problem.contains(expected), "\(section) → \(problem)")
        }
    }

    @Test("token_file: required with allow_remote and actions (naming the key); read, trimmed, never shown")
    func tokenFile() throws {
        let required = Self.problem("allow_remote = true\nactions = true")
        #expect(
            required.contains("http.token_file: required with allow_remote = true and actions = true"), "\(required)")
        #expect(Self.problem("allow_remote = true") == "accepted", "no actions, nothing to protect")
        let directory = try TemporaryFolder("imagedrop-store")
        let file = directory.path + "/http-token"
        let secret = "0123456789abcdef0123456789abcdef"
        try (secret + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let http = try Self.load("allow_remote = true\nactions = true\ntoken_file = \"\(file)\"")
        #expect(http.token?.bytes == Array(secret.utf8) && http.tokenFile == file)
        #expect("\(http)".contains("<redacted token>") && !"\(http)".contains(secret))
        #expect(try Self.parse("token_file = \"\(file)\"").token == nil, "read-only commands do not read it")
        for (content, expected) in [
            ("", "is empty"), ("\n \n", "is empty"),
            ("short", "must hold one token of at least 16 visible ASCII characters"),
            ("has a space in it 0123456789", "must hold one token of at least 16 visible ASCII characters"),
        ] {
            try content.write(toFile: file, atomically: true, encoding: .utf8)
            let problem = Self.problem("actions = true\ntoken_file = \"\(file)\"")
            #expect(
                problem.contains("http.token_file: \"\(file)\" \(expected)") && !problem.contains("0123456789"),
                "\(problem)")
        }
        let missing = Self.problem("token_file = \"\(directory.path)/nothing\"")
        #expect(missing.contains("http.token_file: \"\(directory.path)/nothing\" cannot be read"), "\(missing)")
    }
}
