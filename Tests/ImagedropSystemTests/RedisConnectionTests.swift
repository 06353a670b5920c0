import ImagedropTestSupport
import Testing

@testable import ImagedropSystem

/// hiredis against a real redis-server: replies copied out whole, errors typed, timeouts and refusals fast.
@Suite("Redis connection", .serialized)
struct RedisConnectionTests {
    @Test("Every reply type comes back as its RedisReply case, over TCP and over the unix socket")
    func replyTypes() throws {
        let server = try RedisServer()
        defer { server.stop() }
        for address in [
            RedisEndpoint.Address.tcp(host: "127.0.0.1", port: server.port), .unix(path: server.socketPath),
        ] {
            let redis = try RedisConnection(RedisEndpoint(address: address))
            #expect(try redis.command(["SET", "k", "v\u{0}w"]) == .status("OK"))
            #expect(try redis.command(["GET", "k"]) == .string(Array("v\u{0}w".utf8)))
            _ = try redis.command(["DEL", "n"])
            #expect(try redis.command(["INCRBY", "n", "41"]) == .integer(41))
            #expect(try redis.command(["GET", "missing"]) == .nil)
            _ = try redis.command(["DEL", "l"])
            _ = try redis.command(["RPUSH", "l", "a", "", "c"])
            #expect(
                try redis.command(["LRANGE", "l", "0", "-1"])
                    == .array([.string(Array("a".utf8)), .string([]), .string(Array("c".utf8))]))
            guard case .error(let message) = try redis.command(["NOSUCHCOMMAND"]) else {
                Issue.record("an unknown command should be an error reply")
                return
            }
            #expect(message.hasPrefix("ERR"))
            // An error reply leaves the connection usable.
            #expect(try redis.command(["PING"]) == .status("PONG"))
        }
    }

    @Test("SELECT puts keys in the endpoint's database, AUTH logs in, a wrong password is a reply error")
    func databaseAndAuth() throws {
        let server = try RedisServer(password: "s3cret")
        defer { server.stop() }
        let address = RedisEndpoint.Address.unix(path: server.socketPath)
        let db3 = try RedisConnection(RedisEndpoint(address: address, database: 3, password: "s3cret"))
        _ = try db3.checked(["SET", "where", "three"])
        let db0 = try RedisConnection(RedisEndpoint(address: address, database: 0, password: "s3cret"))
        #expect(try db0.command(["GET", "where"]) == .nil)
        #expect(try db3.command(["GET", "where"]).text == "three")
        #expect(throws: RedisError.self) { try RedisConnection(RedisEndpoint(address: address, password: "wrong")) }
        do {
            _ = try RedisConnection(RedisEndpoint(address: address))
                .checked(["GET", "where"])
            Issue.record("no password should be refused")
        } catch {
            #expect(error.code == .reply)
            #expect(error.message.hasPrefix("NOAUTH"))
        }
    }

    @Test("A refused connection and a command past its deadline throw I/O errors quickly")
    func refusedAndTimeout() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let port = server.port
        let redis = try RedisConnection(
            RedisEndpoint(address: .tcp(host: "127.0.0.1", port: port)), commandTimeoutMillis: 250)
        let started = ContinuousClock.now
        do {
            // The server sleeps 2 s; the client gives up at 250 ms.
            _ = try redis.command(["DEBUG", "SLEEP", "2"])
            Issue.record("a 2 s command should time out")
        } catch {
            #expect(error.code == .io)
            #expect(error.breaksConnection)
        }
        #expect(ContinuousClock.now - started < .milliseconds(1500))
        server.stop()
        let refusedAt = ContinuousClock.now
        do {
            _ = try RedisConnection(RedisEndpoint(address: .tcp(host: "127.0.0.1", port: port)))
            Issue.record("a stopped server should refuse")
        } catch {
            #expect(error.code == .io)
            #expect(!error.message.isEmpty)
        }
        #expect(ContinuousClock.now - refusedAt < .milliseconds(1000))
    }
}
