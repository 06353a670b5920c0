import ImagedropStore
import ImagedropSystem

/// What a file job's upload will send, decided from the job, the facts pre-flight found and the settings in
/// force — no I/O, so each rule (id choice, metadata, form fields) is tested in-process.
package struct UploadPlan: Sendable, Equatable {
    /// The settings a plan depends on: `[images]` and the watch roots (path ids start with a root's name
    /// when there are several). A per-source override passes its own values here.
    package struct Settings: Sendable, Equatable {
        package var images: Config.Images
        package var watchRoots: [String]
        package init(images: Config.Images, watchRoots: [String]) {
            self.images = images
            self.watchRoots = watchRoots
        }
        /// From the config scoped to the job's source: path ids use the roots of every source sharing the
        /// source's id space (`images.idRoots`, set by the loader), else the source's own folders.
        package init(_ config: Config) {
            self.init(
                images: config.images,
                watchRoots: config.images.idRoots.isEmpty ? config.watch.paths : config.images.idRoots)
        }
    }

    /// What pre-flight learnt about the file's bytes.
    package struct FileFacts: Sendable, Equatable {
        package var sha256: String
        package init(sha256: String) { self.sha256 = sha256 }
        /// A file not hashed yet (hashed as it is sent) is planned with `pendingDigest` in its digest's place:
        /// its fields have their final lengths, their values come from the digest after the file part.
        package init(hashedOrPending sha256: String?) { self.sha256 = sha256 ?? UploadPlan.pendingDigest }
    }

    /// Stands for a digest not known yet: 64 hex digits, the length of every SHA-256 in hex.
    package static let pendingDigest = String(repeating: "0", count: 64)

    package struct Field: Sendable, Equatable {
        package var name: String
        package var value: String
    }

    package enum Decision: Sendable, Equatable {
        case upload(UploadPlan)
        /// A local failure: the job ends `failed` with this reason and nothing is sent.
        case fail(reason: String)
    }

    /// nil: Cloudflare chooses the id (the job key in the metadata finds an ambiguous upload again).
    package var customID: String?
    package var metadata: String
    /// The text fields in the order they are sent (the file part is added by the caller).
    package var fields: [Field]
    package var filename: String
    /// Cloudflare-chosen id and an earlier send: that send may have stored the image and lost the reply, so
    /// the job key must be looked for before a second upload stores a second image.
    package var looksForEarlierUploadFirst: Bool

    package static func make(job: Job, file: FileFacts, settings: Settings) -> Decision {
        let images = settings.images
        if images.idMode == .path, !images.requireSignedURLs, !job.path.isValidUTF8 {
            // Each bad byte would show as U+FFFD, so `a\xff.png` and `a\xfe.png` would share an id.
            return .fail(
                reason:
                    "the name is not valid UTF-8; with images.id = \"path\" its id could be another file's (rename it, or use content-hash ids)"
            )
        }
        let relativePath = ImageIDStrategy.relativePath(of: job.path, root: job.root)
        var idPath = relativePath
        if images.idMode == .path, let label = ImageIDStrategy.rootLabel(of: job.root, roots: settings.watchRoots) {
            idPath = label + "/" + idPath
        }
        let customID = ImageIDStrategy.customID(
            mode: images.idMode, prefix: images.idPrefix,
            requireSignedURLs: images.requireSignedURLs, sha256: file.sha256,
            relativePath: idPath)
        guard
            let metadata = ImageMetadata.build(
                userJSON: images.metadataJSON, sha256: file.sha256,
                sourcePath: relativePath, jobKey: customID == nil ? job.jobKey : nil)
        else {
            return .fail(reason: "metadata would exceed 1024 bytes with imagedrop's keys; shorten images.metadata")
        }
        var fields: [Field] = []
        if let customID { fields.append(Field(name: "id", value: customID)) }
        fields.append(Field(name: "metadata", value: metadata))
        fields.append(Field(name: "requireSignedURLs", value: images.requireSignedURLs ? "true" : "false"))
        if let creator = images.creator { fields.append(Field(name: "creator", value: creator)) }
        return .upload(
            UploadPlan(
                customID: customID, metadata: metadata, fields: fields,
                filename: String(decoding: job.path.baseName, as: UTF8.self),
                looksForEarlierUploadFirst: customID == nil && job.sends > 0))
    }

    /// The multipart form: the file part first, streamed from the descriptor pre-flight opened, then the plan's
    /// fields — sent only if the descriptor still shows `version` once the last byte was read (the file part's own
    /// read checks it when `sha256` is known, FieldsAfterFileSource when not, and either cuts the transfer). A file
    /// rewritten in place during the send thus never has an image of two versions' bytes stored under the first
    /// one's id, where a lost reply would leave it unseen (and a later upload of those bytes would take it for
    /// theirs). `sha256`: the digest pre-flight computed, the one this plan was made
    /// from; nil for a file pre-flight did not hash (this plan made with `pendingDigest`): libcurl hashes the bytes
    /// as it reads them and `make` builds the fields again from that digest, so the id and metadata name exactly
    /// the bytes sent. Cloudflare documents no order for the parts; its own notes show the file part first
    /// (docs/behaviour.md, "One read per large file").
    package func form(
        job: Job, settings: Settings, fileDescriptor: Int32, version: FileStatus, sha256: String?,
        bytes: [UInt8]? = nil
    ) -> MultipartForm {
        var form = MultipartForm()
        form.file = FileBody(fileDescriptor: fileDescriptor, size: version.size, filename: filename, bytes: bytes)
        let planned = fields.map(\.value)
        form.fieldsAfterFile = FieldsAfterFile(
            names: fields.map(\.name), sizes: planned.map(\.utf8.count), version: version, knownDigest: sha256
        ) { digest in
            if sha256 != nil { return planned }
            guard case .upload(let plan) = UploadPlan.make(job: job, file: .init(sha256: digest), settings: settings)
            else { return [] }
            return plan.fields.map(\.value)
        }
        return form
    }
}

extension ImageIDStrategy {
    /// The custom id for this job's file under `config`, or nil when Cloudflare chooses it: the upload's own
    /// decision, so what is tested through here is what is sent.
    package static func customID(for job: Job, config: Config, sha256: String) -> String? {
        guard case .upload(let plan) = UploadPlan.make(job: job, file: .init(sha256: sha256), settings: .init(config))
        else { return nil }
        return plan.customID
    }
}
