import ImagedropSupport

/// The fleet's Redis keys. The budget and the block belong to one Cloudflare principal (account and credential):
/// hosts sharing it share them. The credential appears only as a hash, never itself.
package struct FleetKeys: Sendable, Equatable {
    package let budget: String
    package let block: String
    /// The number of the last grant (the fleet's sequence) and the API's `Ratelimit` caps on the next ones.
    package let sequence: String
    package let caps: String
    package let pause: String
    package let hosts: String
    package let prefix: String

    package init(prefix: String, accountID: String, credential: String) {
        // Domain-separated and cut to 64 bits: enough to tell credentials apart, useless for guessing one.
        let identity = String(SHA256Hasher.hex(of: Array("imagedrop-budget\u{0}\(credential)".utf8)).prefix(16))
        budget = "\(prefix):budget:\(accountID):\(identity)"
        block = "\(prefix):block:\(accountID):\(identity)"
        sequence = "\(prefix):seq:\(accountID):\(identity)"
        caps = "\(prefix):caps:\(accountID):\(identity)"
        pause = "\(prefix):pause"
        hosts = "\(prefix):hosts"
        self.prefix = prefix
    }

    /// A host's heartbeat (FleetHostReport as JSON), read by `fleet status`.
    package func host(_ name: String) -> String { "\(prefix):host:\(name)" }
}
