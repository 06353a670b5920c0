import ImagedropSystem

/// What the reply to a DELETE means for the image — one reading for every delete imagedrop sends (a path
/// id's previous version, an outdated earlier upload, an owed delete of mixed bytes). It follows the upload
/// classification: a 429 blocks the pool, a refused token (or a full quota) pauses the queue; a 404 means the
/// image is gone.
package enum DeleteOutcome: Equatable {
    case gone
    case transient(reason: String, code: Int?, retryAfterMillis: Int64?, rateLimited: Bool)
    case pause(reason: String, kind: PauseGate.Kind)
    case permanent(reason: String, code: Int?)

    package init(_ reply: ImagesClient.Reply) {
        switch reply.classification {
        case .success:
            self = .gone
        case .permanent(let reason, let code):
            self = code == 5404 || reply.response?.status == 404 ? .gone : .permanent(reason: reason, code: code)
        case .transient(let reason, let code, let retryAfter, let limited):
            self = .transient(reason: reason, code: code, retryAfterMillis: retryAfter, rateLimited: limited)
        case .credentials(let reason, _):
            self = .pause(reason: reason, kind: .credentials)
        case .quota(let reason, _):
            self = .pause(reason: reason, kind: .quota)
        case .alreadyExists:
            self = .transient(reason: "unexpected 409 on DELETE", code: 5409, retryAfterMillis: nil, rateLimited: false)
        }
    }
}
