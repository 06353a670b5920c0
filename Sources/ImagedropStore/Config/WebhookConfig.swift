import FoundationEssentials
import ImagedropSupport
import ImagedropSystem

extension Config {
    /// `[webhook]`: where job outcomes are POSTed. Off while `url` is unset.
    package struct Webhook: Sendable, Equatable {
        package enum Event: String, Sendable, Equatable, CaseIterable { case done, failed }

        package init() {}
        package var url: String?  // url
        package var secretFile: String?  // secret_file (required with url): the HMAC key
        package var events: [Event] = [.done, .failed]  // events
        package var timeoutSeconds = 10  // timeout_s: one delivery attempt
        package var maxAttempts = 10  // max_attempts: then the delivery is `dead`
        /// The secret's bytes, read at load (a missing or empty file is a config error, not a silent unsigned
        /// webhook). Never printed: `description` of the config does not include it.
        package var secret = WebhookSecret(bytes: [])

        package var isEnabled: Bool { url != nil }
        /// What the outbox triggers record: nothing while the webhook is off, so no backlog builds up.
        package var recordedEvents: [Event] { isEnabled ? events : [] }

        /// `readSecret` is off for the commands that only read the table (`status` must work for an operator
        /// who may not read the secret); `run` and `check` read it and refuse a missing or empty one.
        package static func parse(_ section: TOMLSection, readSecret: Bool) throws -> Webhook {
            try section.rejectUnknown(allowed: ["url", "secret_file", "events", "timeout_s", "max_attempts"])
            var webhook = Webhook()
            // POSTed to exactly as written (not an API root that paths are appended to): a trailing slash stays.
            if let url = try section.string("url") {
                webhook.url = try section.url("url", url, keepingTrailingSlash: true)
            }
            if let names = try section.strings("events") {
                webhook.events = try names.map { name in
                    guard let event = Event(rawValue: name) else {
                        throw section.error("events", "must list \"done\" and/or \"failed\" (got \"\(name)\")")
                    }
                    return event
                }
            }
            webhook.timeoutSeconds = try section.int("timeout_s", min: 1, max: 300) ?? 10
            webhook.maxAttempts = try section.int("max_attempts", min: 1, max: 1000) ?? 10
            webhook.secretFile = try section.path("secret_file")
            guard webhook.isEnabled else { return webhook }
            guard let file = webhook.secretFile else {
                throw section.error(
                    "secret_file", "required with url (a file holding the shared secret that signs each delivery)")
            }
            guard readSecret else { return webhook }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw section.error("secret_file", "\"\(file)\" cannot be read")
            }
            var bytes = [UInt8](data)
            while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 { bytes.removeLast() }
            guard !bytes.isEmpty else { throw section.error("secret_file", "\"\(file)\" is empty") }
            webhook.secret = WebhookSecret(bytes: bytes)
            return webhook
        }
    }
}

/// The webhook signing key. Its description hides the bytes, so a logged config cannot leak it.
package struct WebhookSecret: Sendable, Equatable, CustomStringConvertible {
    package let bytes: [UInt8]
    package init(bytes: [UInt8]) { self.bytes = bytes }
    package var description: String { "<\(bytes.count)-byte secret>" }
}
