/// One image of the account as `reconcile` compares it with the ledger: its id, its variants, and what
/// imagedrop wrote into its metadata (`sha256`, `source_path`, `imagedrop_job`), which marks it as one of
/// imagedrop's uploads and tells where its file was.
package struct AccountImage: Sendable, Equatable {
    package var id: String
    package var variants: [String]
    package var sha256: String?
    package var sourcePath: String?
    package var jobKey: String?
    /// When Cloudflare stored it (ISO-8601), recorded as `uploaded_at` of a rebuilt job.
    package var uploaded: String?

    package init(
        id: String, variants: [String], sha256: String? = nil, sourcePath: String? = nil,
        jobKey: String? = nil, uploaded: String? = nil
    ) {
        self.id = id
        self.variants = variants
        self.sha256 = sha256
        self.sourcePath = sourcePath
        self.jobKey = jobKey
        self.uploaded = uploaded
    }

    /// Carries both of imagedrop's keys: an image someone else uploaded is none of the ledger's business.
    package var isImagedrops: Bool { sha256 != nil && sourcePath != nil }
}

/// A done job whose variants are not the account's (the account's named variants changed since).
package struct StaleJob: Sendable, Equatable {
    package var job: Job
    package var accountVariants: [String]
}
