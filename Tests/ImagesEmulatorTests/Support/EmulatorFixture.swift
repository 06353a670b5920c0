import ImagedropSupport
import ImagedropTestSupport

@testable import ImagesEmulator

let testAccount = "023e105f4ecef8ad9ca31a8372d0c353"
let testToken = "test-token-0123456789abcdefghijklmnopqrst"

/// Starts an emulator on an ephemeral loopback port for the duration of `body`.
func withEmulator<T>(
    _ configure: (inout EmulatorConfiguration) -> Void = { _ in },
    _ body: (EmulatorServer) throws -> T
) throws -> T {
    var configuration = EmulatorConfiguration()
    configuration.eventLoopThreads = 1
    configure(&configuration)
    let server = try EmulatorServer.start(configuration)
    defer { try? server.stop() }
    return try body(server)
}

extension EmulatorServer {
    var imagesPath: String { "/client/v4/accounts/\(testAccount)/images/v1" }

    func client() throws -> HTTPTestClient { try HTTPTestClient(port: port) }

    /// One request on a fresh connection, authorised with `testToken` unless `headers` says otherwise.
    func send(
        _ method: String, _ path: String, headers: [(String, String)]? = nil, body: [UInt8] = []
    ) throws -> HTTPTestClient.Response {
        try client().request(method, path, headers: headers ?? [("Authorization", "Bearer \(testToken)")], body: body)
    }

    /// Uploads `file` (a PNG by default) with the given extra fields.
    func upload(
        _ file: [UInt8]? = SampleImages.png(width: 8, height: 8), filename: String? = "photo.png",
        fields: [(String, String)] = [], token: String = testToken, path: String? = nil
    ) throws -> HTTPTestClient.Response {
        var form = MultipartBody()
        if let file { form.addFile(file, filename: filename) }
        for (name, value) in fields { form.addField(name, value) }
        return try client().request(
            "POST", path ?? imagesPath,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", form.contentType)], body: form.finished())
    }
}

extension HTTPTestClient.Response {
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }

    /// `errors[0].code` of a Cloudflare envelope.
    var errorCode: Int? {
        guard case .array(let errors) = json["errors"] ?? .null, let first = errors.first,
            let code = first["code"]?.doubleValue
        else { return nil }
        return Int(code)
    }

    var result: JSONValue? { json["result"] }
}
