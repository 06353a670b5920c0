import Foundation

/// The API token. Its description is redacted so that string interpolation into a log line or an error
/// can never leak it; only `ImagesClient` reads `secret`, to build the Authorization header.
public struct APIToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let secret: String
    public init(_ secret: String) { self.secret = secret }
    public var description: String { "<redacted token>" }
    public var debugDescription: String { "<redacted token>" }
}

/// Where the token comes from: env `CLOUDFLARE_API_TOKEN`, else `cloudflare.api_token_file`, else
/// `$CREDENTIALS_DIRECTORY/cloudflare-api-token` (systemd `LoadCredential=`). Re-read on each `load()`,
/// so a rotated token file is picked up when a paused queue re-probes.
public struct TokenSource: Sendable {
    public let environment: [String: String]
    public let tokenFile: String?

    public init(config: Config, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        self.tokenFile = config.cloudflare.apiTokenFile
    }

    public var sourceDescription: String {
        if let value = environment["CLOUDFLARE_API_TOKEN"], !value.isEmpty { return "environment variable CLOUDFLARE_API_TOKEN" }
        if let tokenFile { return "file \(tokenFile) (cloudflare.api_token_file)" }
        if let directory = environment["CREDENTIALS_DIRECTORY"] { return "credential \(directory)/cloudflare-api-token" }
        return "nowhere"
    }

    /// A token file every user of the machine may read: the token is as good as published. A warning, not a
    /// refusal (the daemon still works), shown by `check` and logged at start.
    public var exposureWarning: String? {
        guard let tokenFile, case .success(let status) = FileStatus.of(RawPath(tokenFile)) else { return nil }
        guard status.mode & 0o004 != 0 else { return nil }
        let mode = String(status.mode & 0o777, radix: 8)
        return "cloudflare.api_token_file: \(tokenFile) is readable by every user (mode \(mode)): chmod 600 \(tokenFile) "
            + "(or 640 with the daemon's group)"
    }

    public func load() throws -> APIToken {
        if let value = environment["CLOUDFLARE_API_TOKEN"], !value.isEmpty {
            return try validated(value, from: "CLOUDFLARE_API_TOKEN")
        }
        if let tokenFile {
            return try readFile(tokenFile, key: "cloudflare.api_token_file")
        }
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            return try readFile(directory + "/cloudflare-api-token", key: "$CREDENTIALS_DIRECTORY/cloudflare-api-token")
        }
        throw TokenError(problem: "no API token: set CLOUDFLARE_API_TOKEN, cloudflare.api_token_file, or systemd LoadCredential=cloudflare-api-token")
    }

    private func readFile(_ path: String, key: String) throws -> APIToken {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenError(problem: "\(key): cannot read \(path)")
        }
        return try validated(String(decoding: data, as: UTF8.self), from: key)
    }

    private func validated(_ raw: String, from key: String) throws -> APIToken {
        let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw TokenError(problem: "\(key): the token is empty") }
        guard token.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\0" }) else {
            throw TokenError(problem: "\(key): the token contains spaces or non-ASCII characters")
        }
        return APIToken(token)
    }
}

public struct TokenError: Error, CustomStringConvertible, Sendable {
    public let problem: String
    public var description: String { problem }
}
