import ImagedropParsing
import ImagedropStore
import ImagedropSystem

/// List v2 (`GET …/images/v2`), one page per request: how `reconcile` reads the whole account.
extension ImagesClient {
    /// Oldest first, so an image uploaded while the pages are read lands on a page still to come instead
    /// of before the continuation token (newest first would skip it). `target` is the batch host's list route
    /// (`{batch_base_url}/images/v2`) with a batch token (`cloudflare.batch_api`), whose requests count
    /// against the token's own rate instead of the account's budget.
    package func listImages(
        continuationToken: String?, perPage: Int, token: APIToken,
        target: UploadTarget? = nil, admission: RequestAdmission
    ) throws(Stopped) -> (Reply, ImageList?) {
        var query = "per_page=\(perPage)&sort_order=asc"
        if let continuationToken { query += "&continuation_token=\(Self.encodePathSegment(continuationToken))" }
        let base = target?.url ?? endpoint.imagesV2
        let reply = try send(
            method: "GET", url: "\(base)?\(query)", token: target?.token ?? token,
            countsAgainstBudget: target?.countsAgainstGlobalBudget ?? true, decodeImage: false,
            admission: admission)
        guard case .success = reply.classification, let body = reply.response?.body else { return (reply, nil) }
        return (reply, EnvelopeDecoder.decode(ImageList.self, from: body)?.result)
    }
}
