import CCurl
import Glibc

/// One libcurl easy handle, reused for every request of one worker so the connection stays alive.
/// Owns everything libcurl keeps a pointer to (error buffer, header list, mime tree, callback state)
/// and frees it in deinit. Confined to the worker thread that created it.
package final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var mime: OpaquePointer?
    private let transfer: TransferState
    private var bodySource: FileBodySource?
    private var fieldsAfterFile: FieldsAfterFileSource?

    package init() {
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.transfer = TransferState()
    }

    deinit {
        clearRequestState()
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    private func clearRequestState() {
        if let mime { curl_mime_free(mime) }
        mime = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        bodySource = nil
        fieldsAfterFile = nil
        // The callbacks' view of them too: a file's kept bytes are not held until this worker's next request.
        transfer.source = nil
        transfer.fieldsAfterFile = nil
    }

    /// One request. A reply body over `maxResponseBytes` fails the transfer (CURLE_WRITE_ERROR: an API reply
    /// that large is not an envelope), unless `truncatingLongerBodies`: then its status and headers stand and the
    /// body is cut at the cap (a webhook receiver's 2xx is an acceptance whatever it says after it).
    /// `cancellation` is polled while the transfer runs: set, it ends with CURLE_ABORTED_BY_CALLBACK.
    package func perform(
        method: String, url: String, headers: [String], form: MultipartForm? = nil, body: [UInt8]? = nil,
        timeoutSeconds: Int, caFile: String? = nil, maxResponseBytes: Int = 4 << 20,
        truncatingLongerBodies: Bool = false, cancellation: Cancellation = .never
    ) throws(CurlError) -> HTTPResponse {
        clearRequestState()
        if let failure = CurlGlobal.shared.initFailure { throw failure }
        // Reset keeps the live connection, DNS and TLS caches; it clears options left by the previous request.
        curl_easy_reset(handle)
        transfer.begin(maxBodyBytes: maxResponseBytes, cancellation: cancellation)
        errorBuffer[0] = 0

        try set(CURLOPT_URL, url)
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_NOSIGNAL, 1)  // threaded use: no SIGALRM for DNS timeouts
        try set(CURLOPT_TIMEOUT, timeoutSeconds)
        try set(CURLOPT_CONNECTTIMEOUT, min(timeoutSeconds, 15))
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        if let caFile { try set(CURLOPT_CAINFO, caFile) }
        if let share = CurlGlobal.shared.share {
            try check(imagedrop_easy_setopt_share(handle, CURLOPT_SHARE, share))
        }
        try installCallbacks()

        // "Expect:" turns off curl's 100-continue wait, which costs a round trip (or 1 s with servers that
        // never answer 100) on every upload larger than 1 MiB.
        var allHeaders = headers
        allHeaders.append("Expect:")
        for header in allHeaders {
            // nil: out of memory, and the list so far is still ours (held in headerList, freed on clear).
            guard let appended = curl_slist_append(headerList, header) else {
                throw CurlError(CURLE_OUT_OF_MEMORY, detail: "curl_slist_append")
            }
            headerList = appended
        }
        try check(imagedrop_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        switch method {
        case "GET": try set(CURLOPT_HTTPGET, 1)
        case "POST" where form != nil: try attach(form!)
        case "POST" where body != nil:
            // COPYPOSTFIELDS copies the bytes at once, so they need not outlive this call.
            try set(CURLOPT_POSTFIELDSIZE, body!.count)
            var bytes = body!
            try check(
                bytes.withUnsafeMutableBytes {
                    imagedrop_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress)
                })
        default: try set(CURLOPT_CUSTOMREQUEST, method)
        }

        var rc = curl_easy_perform(handle)
        if rc == CURLE_ABORTED_BY_CALLBACK, transfer.refusedResend {
            // What the server did to the one request sent: closed the connection without a reply.
            rc = CURLE_GOT_NOTHING
            errorBuffer[0] = 0
        }
        // Stopped reading at the cap on purpose: the status line and headers arrived, the reply is complete
        // for the caller. libcurl closes the connection (the rest of the body is never read).
        if rc == CURLE_WRITE_ERROR, transfer.bodyTruncated, truncatingLongerBodies { rc = CURLE_OK }
        if rc != CURLE_OK {
            let detail = String(cString: errorBuffer)
            let error = CurlError(rc, detail: transfer.readFailure ?? detail)
            clearRequestState()
            throw error
        }
        var status = 0
        var total = 0.0
        // Plain fields follow the file's last byte, read only after its version check passed.
        let sentFileSHA256 = fieldsAfterFile?.digest ?? bodySource?.checkedDigest
        let infoCodes = (
            imagedrop_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status),
            imagedrop_easy_getinfo_double(handle, CURLINFO_TOTAL_TIME, &total)
        )
        clearRequestState()
        // Both are always available after a completed transfer: a refusal is a broken libcurl, not a reply.
        try check(infoCodes.0)
        try check(infoCodes.1)
        return HTTPResponse(
            status: status, headers: transfer.headers, body: transfer.body, totalSeconds: total,
            bodyTruncated: transfer.bodyTruncated, sentFileSHA256: sentFileSHA256)
    }

    private func attach(_ form: MultipartForm) throws(CurlError) {
        guard let mime = curl_mime_init(handle) else { throw CurlError(CURLE_OUT_OF_MEMORY) }
        self.mime = mime
        // With the digest known (pre-flight hashed the file), the fields after the file are fixed text: plain parts,
        // which libcurl copies into the same send as the file's last bytes. Parts with a read callback each cost a
        // send and two polls of their own (libcurl stops filling its buffer at every such part: 5 sends per small
        // upload where 2 do, docs/benchmarks.md), so they are kept for the digest computed as the file is sent.
        // The version check then moves to the file part's last byte, before those bytes go out: the fields still
        // follow only bytes of the version measured. An empty file part is never read, so it keeps the callbacks.
        var knownFields: (fields: FieldsAfterFile, digest: String)?
        if let file = form.file, file.size > 0, let fields = form.fieldsAfterFile, let digest = fields.knownDigest {
            knownFields = (fields, digest)
        }
        if let file = form.file {
            // libcurl's default 64 KiB upload buffer, for large bodies too: each transfer holds its buffer while it
            // runs, and 512 KiB ones for 8 of 64 concurrent 8 MB uploads were 3.5 MiB of the peak RSS, for no
            // throughput measurable on the nginx sink once the file is read once (docs/benchmarks.md).
            let source = FileBodySource(
                fileDescriptor: file.fileDescriptor, size: file.size, bytes: file.bytes,
                hashing: form.fieldsAfterFile.map { $0.knownDigest == nil } ?? false,
                knownEnd: knownFields.map { ($0.fields.version, $0.digest) })
            bodySource = source
            let part = try addPart(mime)
            try check(curl_mime_name(part, "file"))
            try check(curl_mime_filename(part, file.filename))
            try check(curl_mime_type(part, "application/octet-stream"))
            try check(
                curl_mime_data_cb(
                    part, curl_off_t(file.size),
                    { buffer, size, count, context in
                        FileBodySource.from(context).read(into: buffer, capacity: size * count)
                    },
                    { context, offset, origin in
                        FileBodySource.from(context).seek(to: Int(offset), origin: origin)
                    }, nil, Unmanaged.passUnretained(source).toOpaque()))
        }
        for field in form.fields {
            let part = try addPart(mime)
            try check(curl_mime_name(part, field.name))
            try check(curl_mime_data(part, field.value, field.value.utf8.count))
        }
        if let (fields, digest) = knownFields {
            let values = fields.values(digest)
            guard values.count == fields.names.count else {
                throw CurlError(
                    CURLE_BAD_FUNCTION_ARGUMENT, detail: "fields after the file part: values do not match names")
            }
            for (name, value) in zip(fields.names, values) {
                let part = try addPart(mime)
                try check(curl_mime_name(part, name))
                try check(curl_mime_data(part, value, value.utf8.count))
            }
        } else if let source = bodySource, let fields = form.fieldsAfterFile {
            let after = FieldsAfterFileSource(file: source, fields: fields)
            fieldsAfterFile = after
            for (index, name) in fields.names.enumerated() {
                let part = try addPart(mime)
                try check(curl_mime_name(part, name))
                try check(
                    curl_mime_data_cb(
                        part, curl_off_t(fields.sizes[index]),
                        { buffer, size, count, context in
                            FieldsAfterFileSource.Part.from(context).read(into: buffer, capacity: size * count)
                        },
                        { context, offset, origin in
                            FieldsAfterFileSource.Part.from(context).seek(to: Int(offset), origin: origin)
                        }, nil, Unmanaged.passUnretained(after.parts[index]).toOpaque()))
            }
        }
        try check(imagedrop_easy_setopt_mime(handle, CURLOPT_MIMEPOST, mime))
        transfer.source = bodySource
        transfer.fieldsAfterFile = fieldsAfterFile
    }

    /// A new part of the form; nil from libcurl means out of memory.
    private func addPart(_ mime: OpaquePointer) throws(CurlError) -> OpaquePointer {
        guard let part = curl_mime_addpart(mime) else {
            throw CurlError(CURLE_OUT_OF_MEMORY, detail: "curl_mime_addpart")
        }
        return part
    }

    private func installCallbacks() throws(CurlError) {
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        try check(
            imagedrop_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                TransferState.from(context).appendBody(data, size * count)
            })
        try set(CURLOPT_WRITEDATA, pointer: context)
        try check(
            imagedrop_easy_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                TransferState.from(context).appendHeader(data, size * count)
            })
        try set(CURLOPT_HEADERDATA, pointer: context)
        try set(CURLOPT_NOPROGRESS, 0)
        try check(
            imagedrop_easy_setopt_xferinfo_callback(handle, CURLOPT_XFERINFOFUNCTION) { context, _, _, _, _ in
                TransferState.from(context).isCancelled ? 1 : 0
            })
        try set(CURLOPT_XFERINFODATA, pointer: context)
        try check(
            imagedrop_easy_setopt_prereq_callback(handle, CURLOPT_PREREQFUNCTION) { context, _, _, _, _ in
                TransferState.from(context).requestStarting() ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT
            })
        try set(CURLOPT_PREREQDATA, pointer: context)
    }

    private func set(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check(imagedrop_easy_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(CurlError) {
        try check(imagedrop_easy_setopt_string(handle, option, value))
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(CurlError) {
        try check(imagedrop_easy_setopt_pointer(handle, option, pointer))
    }

    private func check(_ code: CURLcode) throws(CurlError) {
        if code != CURLE_OK { throw CurlError(code) }
    }
}

@available(*, unavailable)
extension CurlEasy: Sendable {}
