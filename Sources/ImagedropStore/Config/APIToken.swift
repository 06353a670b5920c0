import FoundationEssentials
import ImagedropSupport
import ImagedropSystem

/// The API credential: an API token (sent as `Authorization: Bearer`), or the Global API Key with its
/// account email (sent as `X-Auth-Email` + `X-Auth-Key`). Its description is redacted so that string
/// interpolation into a log line or an error can never leak it; only `ImagesClient` reads `secret`, to build
/// the request headers (`headerLines`).
package struct APIToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    package let secret: String
    /// Set for the Global API Key: the email it belongs to.
    package let email: String?

    package init(_ secret: String) {
        self.secret = secret
        self.email = nil
    }

    package init(globalKey: String, email: String) {
        self.secret = globalKey
        self.email = email
    }

    package var isGlobalKey: Bool { email != nil }
    package var description: String { isGlobalKey ? "<redacted key>" : "<redacted token>" }
    package var debugDescription: String { description }

    /// The authentication headers of every API request made with this credential.
    package var headerLines: [String] {
        if let email { return ["X-Auth-Email: \(email)", "X-Auth-Key: \(secret)"] }
        return ["Authorization: Bearer \(secret)"]
    }
}

/// Where the credential comes from. The token: env `CLOUDFLARE_API_TOKEN`, else `cloudflare.api_token_file`,
/// else `$CREDENTIALS_DIRECTORY/cloudflare-api-token` (systemd `LoadCredential=`). With `cloudflare.api_email`
/// the Global API Key instead: env `CLOUDFLARE_API_KEY`, else `cloudflare.api_key_file`, else
/// `$CREDENTIALS_DIRECTORY/cloudflare-api-key`. Re-read on each `load()`, so a rotated file is picked up when
/// a paused queue re-probes.
package struct TokenSource: Sendable {
    package let environment: [String: String]
    package let tokenFile: String?
    package let apiEmail: String?
    package let keyFile: String?

    package init(config: Config, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        self.tokenFile = config.cloudflare.apiTokenFile
        self.apiEmail = config.cloudflare.apiEmail
        self.keyFile = config.cloudflare.apiKeyFile
    }

    private var credential: (env: String, key: String, file: String?, fileKey: String, name: String) {
        apiEmail == nil
            ? ("CLOUDFLARE_API_TOKEN", "token", tokenFile, "cloudflare.api_token_file", "cloudflare-api-token")
            : ("CLOUDFLARE_API_KEY", "key", keyFile, "cloudflare.api_key_file", "cloudflare-api-key")
    }

    /// A token and a key both configured (a config error, 78): which one was meant cannot be guessed. The
    /// config file's own keys are checked by ConfigLoader; this adds the environment's token.
    package var conflict: String? {
        guard apiEmail != nil, let token = environment["CLOUDFLARE_API_TOKEN"], !token.isEmpty else { return nil }
        return
            "cloudflare.api_email: the Global API Key is configured and CLOUDFLARE_API_TOKEN is set too; use one of them"
    }

    package var sourceDescription: String {
        let c = credential
        let prefix = apiEmail.map { "Global API Key of \($0), " } ?? ""
        if let value = environment[c.env], !value.isEmpty { return prefix + "environment variable \(c.env)" }
        if let file = c.file { return prefix + "file \(file) (\(c.fileKey))" }
        if let directory = environment["CREDENTIALS_DIRECTORY"] { return prefix + "credential \(directory)/\(c.name)" }
        return "nowhere"
    }

    /// A token (or Global API Key) file every user of the machine may read: the credential is as good as
    /// published. A warning, not a refusal (the daemon still works), shown by `check` and logged at start.
    package var exposureWarning: String? {
        let c = credential
        guard let file = c.file, case .success(let status) = FileStatus.of(RawPath(file)) else { return nil }
        guard status.mode & 0o004 != 0 else { return nil }
        let mode = String(status.mode & 0o777, radix: 8)
        return "\(c.fileKey): \(file) is readable by every user (mode \(mode)): chmod 600 \(file) "
            + "(or 640 with the daemon's group)"
    }

    package func load() throws -> APIToken {
        let c = credential
        if let value = environment[c.env], !value.isEmpty {
            return try validated(value, from: c.env)
        }
        if let file = c.file {
            return try readFile(file, key: c.fileKey)
        }
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            return try readFile(directory + "/" + c.name, key: "$CREDENTIALS_DIRECTORY/\(c.name)")
        }
        if apiEmail != nil {
            throw TokenError(
                problem:
                    "no Global API Key: set CLOUDFLARE_API_KEY, cloudflare.api_key_file, or systemd LoadCredential=cloudflare-api-key"
            )
        }
        throw TokenError(
            problem:
                "no API token: set CLOUDFLARE_API_TOKEN, cloudflare.api_token_file, or systemd LoadCredential=cloudflare-api-token"
        )
    }

    private func readFile(_ path: String, key: String) throws -> APIToken {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenError(problem: "\(key): cannot read \(path)")
        }
        return try validated(String(decoding: data, as: UTF8.self), from: key)
    }

    private func validated(_ raw: String, from key: String) throws -> APIToken {
        let what = credential.key
        let token = raw.trimmed()
        guard !token.isEmpty else { throw TokenError(problem: "\(key): the \(what) is empty") }
        guard token.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\0" }) else {
            throw TokenError(problem: "\(key): the \(what) contains spaces or non-ASCII characters")
        }
        if let apiEmail { return APIToken(globalKey: token, email: apiEmail) }
        return APIToken(token)
    }
}

package struct TokenError: Error, CustomStringConvertible, Sendable {
    package let problem: String
    package var description: String { problem }
}
