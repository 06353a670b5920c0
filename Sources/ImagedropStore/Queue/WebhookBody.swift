import ImagedropParsing
import ImagedropSupport
import ImagedropSystem

/// The bytes POSTed for one delivery, and the headers that sign and identify them. The same row always gives
/// the same bytes (sorted keys), so a retry is byte-for-byte the first attempt.
package enum WebhookBody {
    package static func render(_ delivery: WebhookDelivery) -> [UInt8] {
        var job = JSONReader.object(delivery.jobJSON) ?? [:]
        job["source"] = delivery.source
        let object: [String: Any] = ["event": delivery.event, "job": job, "at": delivery.at]
        return Array(JobRendering.json(object).utf8)
    }

    /// `sha256=<hex HMAC-SHA256 of the body>`: what a receiver recomputes with the shared secret.
    package static func signature(body: [UInt8], secret: WebhookSecret) -> String {
        "sha256=" + HMACSHA256.hex(key: secret.bytes, message: body)
    }

    package static func headers(_ delivery: WebhookDelivery, body: [UInt8], secret: WebhookSecret) -> [String] {
        [
            "Content-Type: application/json",
            "User-Agent: imagedrop/\(ImagedropVersion.current)",
            "X-Imagedrop-Event: \(delivery.event)",
            "X-Imagedrop-Delivery: \(delivery.deliveryID)",
            "X-Imagedrop-Signature: \(signature(body: body, secret: secret))",
        ]
    }
}
