import Foundation
import Testing

@testable import ImagedropStore
@testable import ImagedropSystem

@Suite("Fleet config")
struct FleetConfigTests {
    static func parse(_ section: String?, readSecret: Bool = false) throws -> Config.Fleet? {
        let text = """
            [cloudflare]
            account_id = "023e105f4ecef8ad9ca31a8372d0c353"
            [watch]
            paths = ["/tmp"]
            \(section.map { "[fleet]\n" + $0 } ?? "")
            """
        return try ConfigLoader.parse(text, path: "test.toml", checkFolders: readSecret).fleet
    }

    @Test("No [fleet]: nil; redis URL forms give the address, port and db")
    func forms() throws {
        #expect(try Self.parse(nil) == nil)
        let tcp = try #require(try Self.parse(#"redis = "redis://10.0.0.5:6380/2""# + "\nhost = \"web-1\""))
        #expect(tcp.redis == RedisEndpoint(address: .tcp(host: "10.0.0.5", port: 6380), database: 2))
        #expect(tcp.host == "web-1")
        #expect(tcp.keyPrefix == "imagedrop")
        #expect(
            try Self.parse(#"redis = "redis://cache.internal""#)?.redis.address
                == .tcp(host: "cache.internal", port: 6379))
        #expect(try Self.parse(#"redis = "redis://[::1]:7000/""#)?.redis.address == .tcp(host: "::1", port: 7000))
        #expect(
            try Self.parse(#"redis = "unix:/run/redis/redis.sock""#)?.redis
                == RedisEndpoint(address: .unix(path: "/run/redis/redis.sock")))
        #expect(try Self.parse(#"redis = "unix:/run/redis/redis.sock?db=4""#)?.redis.database == 4)
        #expect(try Self.parse("redis = \"unix:/r.sock\"\nkey_prefix = \"shop.images\"")?.keyPrefix == "shop.images")
        // The default host is this machine's name.
        #expect(try Self.parse(#"redis = "unix:/r.sock""#)?.host == Config.Fleet.currentHostname())
    }

    @Test("Each bad value is one error naming its key")
    func refused() throws {
        let cases: [(String, String)] = [
            ("host = \"a\"", "fleet.redis"),
            (#"redis = "http://127.0.0.1:6379""#, "fleet.redis"),
            (#"redis = "redis://:pw@127.0.0.1""#, "fleet.redis"),
            (#"redis = "redis://127.0.0.1:0""#, "fleet.redis"),
            (#"redis = "redis://127.0.0.1/16""#, "fleet.redis"),
            (#"redis = "unix:relative.sock""#, "fleet.redis"),
            (#"redis = "unix:/r.sock?database=1""#, "fleet.redis"),
            ("redis = \"unix:/r.sock\"\nhost = \"web 1\"", "fleet.host"),
            ("redis = \"unix:/r.sock\"\nhost = \"\(String(repeating: "h", count: 65))\"", "fleet.host"),
            ("redis = \"unix:/r.sock\"\nkey_prefix = \"a:b\"", "fleet.key_prefix"),
            ("redis = \"unix:/r.sock\"\npassword = \"x\"", "fleet.password"),
        ]
        for (text, key) in cases {
            do {
                _ = try Self.parse(text)
                Issue.record("accepted: \(text)")
            } catch let error as ConfigError {
                #expect(error.key == key, "\(text): \(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("The password: password_file, else IMAGEDROP_REDIS_PASSWORD, else the systemd credential, else none")
    func passwordOrder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("from-file\n".utf8).write(to: URL(fileURLWithPath: folder + "/pw"))
        try Data("from-credential\n".utf8).write(to: URL(fileURLWithPath: folder + "/redis-password"))
        let section = TOMLSection(table: nil, name: "fleet", file: "test.toml")
        let both = ["IMAGEDROP_REDIS_PASSWORD": "from-env", "CREDENTIALS_DIRECTORY": folder]
        #expect(try Config.Fleet.password(file: folder + "/pw", environment: both, section: section) == "from-file")
        #expect(try Config.Fleet.password(file: nil, environment: both, section: section) == "from-env")
        #expect(
            try Config.Fleet.password(file: nil, environment: ["CREDENTIALS_DIRECTORY": folder], section: section)
                == "from-credential")
        #expect(try Config.Fleet.password(file: nil, environment: [:], section: section) == nil)
        #expect(throws: ConfigError.self) {
            try Config.Fleet.password(file: folder + "/missing", environment: both, section: section)
        }
    }
}
