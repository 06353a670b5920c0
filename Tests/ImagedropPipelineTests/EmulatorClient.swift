import ImagesEmulator

@testable import ImagedropPipeline

/// The emulator started in this process on an ephemeral loopback port, and a client of it for `account`; the
/// server stops when `body` returns.
func withEmulatorClient(
    _ configuration: EmulatorConfiguration = EmulatorConfiguration(), account: String, timeoutSeconds: Int,
    _ body: (EmulatorServer, ImagesClient) throws -> Void
) throws {
    var configuration = configuration
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.eventLoopThreads = 1
    let server = try EmulatorServer.start(configuration)
    defer { try? server.stop() }
    let client = ImagesClient(
        endpoint: .init(apiBaseURL: server.apiBaseURL, accountID: account, timeoutSeconds: timeoutSeconds))
    try body(server, client)
}
