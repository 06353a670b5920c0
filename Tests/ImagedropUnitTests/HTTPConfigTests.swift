@testable import ImagedropSystem
@testable import ImagedropStore
@testable import ImagedropPipeline
@testable import ImagedropDaemon
import Testing

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
        #expect(try Self.parse(#"listen = "unix:/run/imagedrop/http.sock""#).listen == .unix(path: "/run/imagedrop/http.sock"))
        #expect(try Self.parse("actions = true").listen == nil)
    }

    @Test("refused: names, bad ports, relative sockets, and remote addresses without allow_remote")
    func refused() throws {
        for bad in [#"listen = "localhost:9731""#, #"listen = "127.0.0.1:99999""#, #"listen = "127.0.0.1""#,
                    #"listen = "unix:run/x.sock""#, #"listen = "0.0.0.0:9731""#, #"listen = "[::]:9731""#,
                    #"listen = "192.168.1.5:80""#] {
            #expect(throws: ConfigError.self, "\(bad)") { try Self.parse(bad) }
        }
        #expect(try Self.parse("listen = \"0.0.0.0:9731\"\nallow_remote = true").listen == .tcp(host: "0.0.0.0", port: 9731))
        #expect(Config.HTTP.isLoopback("127.1.2.3") && Config.HTTP.isLoopback("::ffff:127.0.0.1"))
        #expect(!Config.HTTP.isLoopback("::2"))
    }
}
