import Testing

@testable import ImagedropStore

@Suite("Webhook config")
struct WebhookConfigTests {
    static func parse(webhookURL: String, apiBaseURL: String = "https://api.cloudflare.com/client/v4") throws -> Config
    {
        let text = """
            [cloudflare]
            account_id = "023e105f4ecef8ad9ca31a8372d0c353"
            api_base_url = "\(apiBaseURL)"
            [watch]
            paths = ["/tmp"]
            [webhook]
            url = "\(webhookURL)"
            secret_file = "/nonexistent/secret"
            """
        return try ConfigLoader.parse(text, path: "test.toml", checkFolders: false)
    }

    @Test("the webhook url stays exactly as written; the API root still loses its trailing slashes")
    func urlAsWritten() throws {
        for url in [
            "https://cms.example.com/hooks/imagedrop/", "https://cms.example.com/", "http://127.0.0.1:8080/a//",
            "https://cms.example.com/hook?x=1", "https://cms.example.com/hook",
        ] {
            #expect(try Self.parse(webhookURL: url).webhook.url == url)
        }
        #expect(
            try Self.parse(webhookURL: "https://h/", apiBaseURL: "http://127.0.0.1:1/client/v4//").cloudflare.apiBaseURL
                == "http://127.0.0.1:1/client/v4")
        #expect(throws: ConfigError.self) { try Self.parse(webhookURL: "ftp://cms.example.com/") }
    }
}
