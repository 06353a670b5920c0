import ImagedropSupport
import NIOCore
import Synchronization

/// One image as the emulator keeps it.
struct ImageRecord: Sendable {
    let id: String
    let filename: String?
    let sha256: String
    let size: Int
    var meta: JSONValue
    var creator: String?
    var requireSignedURLs: Bool
    let uploadedMillis: Int64
    /// Custom ids cannot be made private (5410); generated ones can.
    let isCustomID: Bool
    let format: ImageFormat
    /// Only when the emulator runs with `storeBytes`.
    let bytes: ByteBuffer?
    /// Upload order, the sort key of the listings (ties in `uploadedMillis` are common).
    let sequence: UInt64

    var stored: StoredImage {
        StoredImage(
            id: id, filename: filename, sha256: sha256, size: size, metaJSON: meta.serialized, creator: creator,
            requireSignedURLs: requireSignedURLs, uploaded: Timestamp.iso8601(millis: uploadedMillis))
    }
}

/// The in-memory image table. Ids are unique; inserting an existing id is the API's 5409.
final class ImageStore: Sendable {
    private struct State {
        var byID: [String: ImageRecord] = [:]
        var nextSequence: UInt64 = 1
    }

    private let state = Mutex(State())

    /// Stores the record built by `make` (which receives the sequence number) unless the id is taken, or the
    /// account already holds `quota` images (checked under the same lock: concurrent uploads never overshoot).
    func insert(id: String, quota: Int? = nil, _ make: (UInt64) -> ImageRecord) -> Result<ImageRecord, APIError> {
        state.withLock { state in
            guard state.byID[id] == nil else { return .failure(.duplicateID) }
            if let quota, state.byID.count >= quota { return .failure(.quotaReached(quota)) }
            let record = make(state.nextSequence)
            state.nextSequence += 1
            state.byID[id] = record
            return .success(record)
        }
    }

    func get(_ id: String) -> ImageRecord? {
        state.withLock { $0.byID[id] }
    }

    func delete(_ id: String) -> Bool {
        state.withLock { $0.byID.removeValue(forKey: id) != nil }
    }

    /// Applies `change` to the stored record; the closure may refuse with an API error.
    func update(_ id: String, _ change: (inout ImageRecord) -> APIError?) -> Result<ImageRecord, APIError> {
        state.withLock { state in
            guard var record = state.byID[id] else { return .failure(.imageNotFound) }
            if let error = change(&record) { return .failure(error) }
            state.byID[id] = record
            return .success(record)
        }
    }

    var count: Int {
        state.withLock { $0.byID.count }
    }

    /// One page of a listing: the first `limit` records after the one numbered `after` (exclusive) in upload
    /// order, or in reverse, that `include` accepts, and whether more follow. Only (sequence, id) pairs are
    /// sorted, not copies of every record: a page of an account of 100,000 images is milliseconds, not the
    /// 0.4 s that copying and sorting them all for each page took.
    func page(
        after: UInt64?, ascending: Bool, limit: Int, include: (ImageRecord) -> Bool
    ) -> (records: [ImageRecord], more: Bool) {
        state.withLock { state in
            var keys: [(sequence: UInt64, id: String)] = []
            keys.reserveCapacity(state.byID.count)
            for (id, record) in state.byID {
                if let after, ascending ? record.sequence <= after : record.sequence >= after { continue }
                keys.append((record.sequence, id))
            }
            keys.sort { ascending ? $0.sequence < $1.sequence : $0.sequence > $1.sequence }
            var records: [ImageRecord] = []
            for key in keys {
                guard let record = state.byID[key.id], include(record) else { continue }
                if records.count == limit { return (records, true) }
                records.append(record)
            }
            return (records, false)
        }
    }

    /// All records in upload order (oldest first).
    func all() -> [ImageRecord] {
        let records = state.withLock { Array($0.byID.values) }
        return records.sorted { $0.sequence < $1.sequence }
    }

    func removeAll() {
        state.withLock { $0.byID.removeAll() }
    }
}
