import FoundationEssentials
import Glibc
import ImagedropSupport
import ImagedropSystem

extension Config {
    /// `[fleet]`: several hosts sharing one Cloudflare budget through Redis. nil (the section absent): this host alone.
    package struct Fleet: Sendable, Equatable {
        package var redis: RedisEndpoint  // redis: "redis://HOST[:PORT][/DB]" | "unix:/path[?db=N]"
        package var passwordFile: String?  // password_file; else env / systemd credential (see `password`)
        package var host: String  // host: this host's name in the fleet (default: the hostname)
        package var keyPrefix = "imagedrop"  // key_prefix: every key the fleet writes starts with it

        package init(redis: RedisEndpoint, host: String) {
            self.redis = redis
            self.host = host
        }

        package static let keys: Set<String> = ["redis", "password_file", "host", "key_prefix"]
        /// Host names and the key prefix become parts of Redis keys and of `fleet status`: a plain alphabet.
        package static func isName(_ text: String) -> Bool {
            (1...64).contains(text.utf8.count)
                && text.utf8.allSatisfy {
                    $0 == 0x2E || $0 == 0x5F || $0 == 0x2D || (0x30...0x39).contains($0)
                        || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
                }
        }

        /// `readSecret` is off for the commands that only read the database, as for the webhook secret: the
        /// password is read only where Redis is used. `environment` is the process's (tests pass their own).
        package static func parse(
            _ section: TOMLSection, readSecret: Bool,
            environment: [String: String] = ProcessInfo.processInfo.environment,
            hostname: String? = currentHostname()
        ) throws -> Fleet? {
            guard section.table != nil else { return nil }
            try section.rejectUnknown(allowed: keys)
            guard let url = try section.string("redis") else {
                throw section.error(
                    "redis", "required in [fleet] (e.g. \"redis://127.0.0.1:6379/0\" or \"unix:/run/redis/redis.sock\")"
                )
            }
            var endpoint = try parseRedis(url, section: section)
            let host: String
            if let named = try section.string("host") {
                guard isName(named) else {
                    throw section.error("host", "must be 1 to 64 of A-Z a-z 0-9 . _ - (got \"\(named)\")")
                }
                host = named
            } else {
                guard let hostname, isName(hostname) else {
                    throw section.error(
                        "host", "the hostname \"\(hostname ?? "")\" is not 1 to 64 of A-Z a-z 0-9 . _ -: set host")
                }
                host = hostname
            }
            var fleet = Fleet(redis: endpoint, host: host)
            if let prefix = try section.string("key_prefix") {
                guard isName(prefix) else {
                    throw section.error("key_prefix", "must be 1 to 64 of A-Z a-z 0-9 . _ - (got \"\(prefix)\")")
                }
                fleet.keyPrefix = prefix
            }
            fleet.passwordFile = try section.path("password_file")
            if readSecret {
                endpoint.password = try password(file: fleet.passwordFile, environment: environment, section: section)
                fleet.redis = endpoint
            }
            return fleet
        }

        /// This fleet with its Redis password read (commands that loaded the config without secrets, then use Redis).
        package func withPassword(
            configPath: String,
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws -> Fleet {
            var fleet = self
            let section = TOMLSection(table: nil, name: "fleet", file: configPath)
            fleet.redis.password = try Self.password(file: passwordFile, environment: environment, section: section)
            return fleet
        }

        /// `password_file`, else `IMAGEDROP_REDIS_PASSWORD`, else the systemd credential `redis-password`; none:
        /// no AUTH. A named file that cannot be read is an error (a typo would otherwise mean NOAUTH at run time).
        package static func password(
            file: String?, environment: [String: String], section: TOMLSection
        ) throws -> String? {
            if let file {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw section.error("password_file", "\"\(file)\" cannot be read")
                }
                let text = trimmed(data)
                guard !text.isEmpty else { throw section.error("password_file", "\"\(file)\" is empty") }
                return text
            }
            if let value = environment["IMAGEDROP_REDIS_PASSWORD"], !value.isEmpty { return value }
            if let folder = environment["CREDENTIALS_DIRECTORY"], !folder.isEmpty,
                let data = FileManager.default.contents(atPath: folder + "/redis-password")
            {
                let text = trimmed(data)
                return text.isEmpty ? nil : text
            }
            return nil
        }

        private static func trimmed(_ data: Data) -> String {
            var bytes = [UInt8](data)
            while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 {
                bytes.removeLast()
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        package static func parseRedis(_ text: String, section: TOMLSection) throws -> RedisEndpoint {
            let shape = "must be \"redis://HOST[:PORT][/DB]\", \"unix:/path\" or \"unix:/path?db=N\" (got \"\(text)\")"
            if text.hasPrefix("unix:") {
                var rest = Substring(text.dropFirst(5))
                var database = 0
                if let query = rest.firstIndex(of: "?") {
                    guard rest[query...].hasPrefix("?db="), let number = Int(rest[rest.index(query, offsetBy: 4)...]),
                        (0...15).contains(number)
                    else { throw section.error("redis", shape + "; db is 0 to 15") }
                    database = number
                    rest = rest[..<query]
                }
                guard rest.hasPrefix("/"), rest.utf8.count < 108 else {
                    throw section.error(
                        "redis", "a unix socket needs an absolute path under 108 bytes (got \"\(rest)\")")
                }
                return RedisEndpoint(address: .unix(path: String(rest)), database: database)
            }
            guard text.hasPrefix("redis://") else { throw section.error("redis", shape) }
            var rest = Substring(text.dropFirst(8))
            guard !rest.contains("@") else {
                throw section.error(
                    "redis", "holds a password: put it in password_file (or IMAGEDROP_REDIS_PASSWORD) instead")
            }
            var database = 0
            if let slash = rest.firstIndex(of: "/") {
                let dbText = rest[rest.index(after: slash)...]
                if !dbText.isEmpty {
                    guard let number = Int(dbText), (0...15).contains(number) else {
                        throw section.error("redis", shape + "; db is 0 to 15")
                    }
                    database = number
                }
                rest = rest[..<slash]
            }
            var host = rest
            var port = 6379
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { throw section.error("redis", shape) }
                host = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else {
                        throw section.error("redis", shape)
                    }
                    port = number
                }
            } else if let colon = rest.lastIndex(of: ":") {
                guard let number = Int(rest[rest.index(after: colon)...]) else { throw section.error("redis", shape) }
                host = rest[..<colon]
                port = number
            }
            guard !host.isEmpty, (1...65535).contains(port) else {
                throw section.error("redis", shape + "; port is 1 to 65535")
            }
            return RedisEndpoint(address: .tcp(host: String(host), port: port), database: database)
        }

        package static func currentHostname() -> String? {
            var buffer = [CChar](repeating: 0, count: 256)
            guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
            return String(nulTerminated: buffer)
        }
    }
}
