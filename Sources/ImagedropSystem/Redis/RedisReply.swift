import CHiredis

/// A Redis reply copied out of hiredis's `redisReply` tree, which is freed as soon as the copy is made.
package enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case integer(Int64)
    case array([RedisReply])
    case `nil`
    case status(String)
    case error(String)

    /// Copies `reply` (not freed here: the caller frees the root once).
    init(copying reply: UnsafePointer<redisReply>) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(node.elements))
            for index in 0..<Int(node.elements) {
                if let child = node.element[index] {
                    items.append(RedisReply(copying: child))
                } else {
                    items.append(.nil)
                }
            }
            self = .array(items)
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS, REDIS_REPLY_ERROR:
            let bytes = node.str.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(node.len))) } ?? []
            switch node.type {
            case REDIS_REPLY_STRING: self = .string(bytes)
            case REDIS_REPLY_STATUS: self = .status(String(decoding: bytes, as: UTF8.self))
            default: self = .error(String(decoding: bytes, as: UTF8.self))
            }
        default:
            self = .nil
        }
    }

    /// A bulk or status string as text (invalid UTF-8 repaired); nil for anything else.
    package var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    package var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    package var array: [RedisReply]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
