import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// The Cloudflare Images API as imagedrop uses it, over one reused libcurl handle (one client per worker). It
/// sends and returns replies; what stands around each request comes with the call (`RequestAdmission`): every request
/// first takes a grant from the shared RequestBudget (uploads, GETs, probes and token refreshes all count against
/// the account's budget), and a stop can cut it short.
package final class ImagesClient {
    package struct Endpoint: Sendable, Equatable {
        package var apiBaseURL: String
        package var accountID: String
        package var timeoutSeconds: Int
        /// `cloudflare.ca_file`: the CA bundle to verify the API's (or a TLS proxy's) certificate against;
        /// nil uses the system's.
        package var caFile: String?

        package init(apiBaseURL: String, accountID: String, timeoutSeconds: Int, caFile: String? = nil) {
            self.apiBaseURL = apiBaseURL
            self.accountID = accountID
            self.timeoutSeconds = timeoutSeconds
            self.caFile = caFile
        }

        package var imagesV1: String { "\(apiBaseURL)/accounts/\(accountID)/images/v1" }
        package var imagesV2: String { "\(apiBaseURL)/accounts/\(accountID)/images/v2" }
    }

    /// Where uploads go: the API itself, or the batch host with a batch token (which has its own budget).
    package struct UploadTarget: Sendable {
        package var url: String
        package var token: APIToken
        package var countsAgainstGlobalBudget: Bool
    }

    package struct Reply: Sendable {
        package var classification: ReplyClassification
        package var response: HTTPResponse?
        package var image: ImageRecord?
        /// No HTTP reply: what libcurl said instead. Whoever owns the pool decides what it means for the path to
        /// the API (`APIPathMonitor.pausedFor`); the client only reports it.
        package var transportFailure: CurlError? = nil
    }

    package let endpoint: Endpoint
    private let curl: CurlEasy

    /// A failure below HTTP comes back as a transient reply naming the cause, with the libcurl error in
    /// `transportFailure`: the client sends and returns replies; pausing the queue is the pool's decision.
    package init(endpoint: Endpoint) {
        // A libcurl that cannot start fails every request instead (CurlEasy.perform): `check` reports it.
        try? CurlGlobal.initialize()
        self.endpoint = endpoint
        self.curl = CurlEasy()
    }

    /// The call was abandoned without an outcome for the job: the daemon is stopping (its admission gave the
    /// request up), or (`pausedFor`, said by
    /// `APIPathMonitor.pausedFor`) the path to the API failed and the queue paused. Either way the job goes back to
    /// the queue untouched.
    package struct Stopped: Error {
        package var pausedFor: String?
        package init(pausedFor: String? = nil) { self.pausedFor = pausedFor }
    }

    // MARK: - Requests

    package func upload(
        _ form: MultipartForm, token: APIToken, target: UploadTarget? = nil, admission: RequestAdmission
    ) throws(Stopped) -> Reply {
        let url = target?.url ?? endpoint.imagesV1
        let bearer = target?.token ?? token
        return try send(
            method: "POST", url: url, token: bearer, form: form,
            countsAgainstBudget: target?.countsAgainstGlobalBudget ?? true, admission: admission)
    }

    package func image(id: String, token: APIToken, admission: RequestAdmission) throws(Stopped) -> Reply {
        try send(
            method: "GET", url: "\(endpoint.imagesV1)/\(Self.encodePathSegment(id))", token: token,
            admission: admission)
    }

    package func deleteImage(id: String, token: APIToken, admission: RequestAdmission) throws(Stopped) -> Reply {
        try send(
            method: "DELETE", url: "\(endpoint.imagesV1)/\(Self.encodePathSegment(id))", token: token,
            admission: admission)
    }

    /// Finds an image by imagedrop's job key in its metadata (list v2 with a metadata filter): how an upload
    /// whose reply was lost is found again when Cloudflare chose the id.
    package func findImage(
        jobKey: String, token: APIToken, admission: RequestAdmission
    ) throws(Stopped) -> (Reply, ImageRecord?) {
        let query = "meta.imagedrop_job%5Beq%5D=\(Self.encodePathSegment(jobKey))&per_page=10"
        let reply = try send(
            method: "GET", url: "\(endpoint.imagesV2)?\(query)", token: token, decodeImage: false,
            admission: admission)
        guard case .success = reply.classification, let body = reply.response?.body,
            let list = EnvelopeDecoder.decode(ImageList.self, from: body)?.result
        else { return (reply, nil) }
        return (reply, list.images.first { $0.metaJobKey == jobKey })
    }

    /// A cheap authenticated read that needs Images permission: the probe that tells whether a paused
    /// queue may resume, and `check`'s proof that the token may use Images.
    package func probeImagesAccess(token: APIToken, admission: RequestAdmission) throws(Stopped) -> Reply {
        try send(
            method: "GET", url: "\(endpoint.imagesV1)/stats", token: token, decodeImage: false, admission: admission)
    }

    /// Proves the token may write Images without storing anything: an upload with neither `file` nor `url`
    /// is refused for its form (400) when the token may write, and for the token (401/403) when not.
    package func probeWriteAccess(token: APIToken, admission: RequestAdmission) throws(Stopped) -> Reply {
        var form = MultipartForm()
        form.fields = [("requireSignedURLs", "false")]
        return try send(
            method: "POST", url: endpoint.imagesV1, token: token, form: form, decodeImage: false, admission: admission)
    }

    package func batchToken(
        token: APIToken, admission: RequestAdmission
    ) throws(Stopped) -> (Reply, token: String?, expiresAt: String?) {
        let reply = try send(
            method: "GET", url: "\(endpoint.imagesV1)/batch_token", token: token, decodeImage: false,
            admission: admission)
        guard case .success = reply.classification, let body = reply.response?.body,
            let result = EnvelopeDecoder.decode(BatchTokenResult.self, from: body)?.result
        else { return (reply, nil, nil) }
        return (reply, result.token, result.expiresAt)
    }

    /// Every request of the client goes through here (its extensions' too): the admission's go-ahead, the
    /// request with its cancellation, the reply's budget header back to the admission, the classification.
    func send(
        method: String, url: String, token: APIToken, form: MultipartForm? = nil, countsAgainstBudget: Bool = true,
        decodeImage: Bool = true, admission: RequestAdmission
    ) throws(Stopped) -> Reply {
        guard let grant = admission.admit(counted: countsAgainstBudget) else { throw Stopped() }
        let headers =
            token.headerLines + ["Accept: application/json", "User-Agent: imagedrop/\(ImagedropVersion.current)"]
        do {
            let response = try curl.perform(
                method: method, url: url, headers: headers, form: form,
                timeoutSeconds: endpoint.timeoutSeconds, caFile: endpoint.caFile, cancellation: admission.cancellation)
            admission.heard(response, after: grant)
            // One decode of the body where an image is expected: the classification reads the same envelope.
            let classification: ReplyClassification
            var image: ImageRecord?
            if decodeImage, let envelope = EnvelopeDecoder.decode(ImageRecord.self, from: response.body) {
                classification = ReplyClassification.classify(response, envelope: envelope)
                if case .success = classification { image = envelope.result }
            } else {
                classification = ReplyClassification.classify(response)
            }
            return Reply(classification: classification, response: response, image: image)
        } catch {
            return Reply(
                classification: ReplyClassification.classify(error), response: nil, image: nil, transportFailure: error)
        }
    }

    // MARK: - Encoding

    /// Image ids may contain `/` and any UTF-8: the API wants the id as one fully encoded path segment.
    package static func encodePathSegment(_ text: String) -> String {
        PercentEncoding.encode(text, allowing: PercentEncoding.isUnreserved)
    }

}

@available(*, unavailable)
extension ImagesClient: Sendable {}
