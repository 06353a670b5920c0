import ImagedropSupport

/// The upload reply's envelope read without JSONDecoder, for the documents the API sends: a third of the reply's
/// handling, 4 % of a small upload's CPU, was JSONDecoder building its map and coding paths for a 300-byte body
/// (docs/benchmarks.md, issue 25's sixth round).
///
/// It answers only where its answer is JSONDecoder's: a document it reads whole, with every known field of the
/// type `APIEnvelope<ImageRecord>` expects. Anything else — a `\u` escape, a number that is not a plain
/// integer, a duplicate or escaped key, a field of another type, nesting past 32, bytes that are not UTF-8 —
/// returns nil, and `EnvelopeDecoder` asks JSONDecoder. The `reply-envelope` fuzz target checks each answer
/// against JSONDecoder's.
package enum ImageEnvelopeReader {
    package static func read(_ body: [UInt8]) -> APIEnvelope<ImageRecord>? {
        body.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            return try? reader.document()
        }
    }

    /// Not an answer: JSONDecoder reads this one.
    private struct Declined: Error {}

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func document() throws(Declined) -> APIEnvelope<ImageRecord> {
            var envelope = APIEnvelope<ImageRecord>(success: nil, errors: nil, result: nil)
            try fields { (reader: inout Reader, key: String) throws(Declined) in
                switch key {
                case "success":
                    envelope.success = try reader.optionalBool()
                case "errors":
                    envelope.errors = try reader.optional { (r: inout Reader) throws(Declined) in
                        try r.messages(depth: 2)
                    }
                case "result":
                    envelope.result = try reader.optional { (r: inout Reader) throws(Declined) in try r.image() }
                default: try reader.skipValue(depth: 1)
                }
            }
            skipSpace()
            guard index == bytes.count else { throw Declined() }
            return envelope
        }

        // MARK: - The known shapes

        mutating func messages(depth: Int) throws(Declined) -> [APIMessage] {
            guard depth < 32 else { throw Declined() }
            return try array { (reader: inout Reader) throws(Declined) in try reader.message(depth: depth + 1) }
        }

        mutating func message(depth: Int) throws(Declined) -> APIMessage {
            var message = APIMessage()
            try fields { (reader: inout Reader, key: String) throws(Declined) in
                switch key {
                case "code":
                    message.code = try reader.optional { (r: inout Reader) throws(Declined) in try r.integer() }
                case "message":
                    message.message = try reader.optionalString()
                case "error_chain":
                    message.errorChain = try reader.optional { (r: inout Reader) throws(Declined) in
                        try r.messages(depth: depth + 1)
                    }
                default: try reader.skipValue(depth: depth + 1)
                }
            }
            return message
        }

        mutating func image() throws(Declined) -> ImageRecord {
            var id: String?
            var record = ImageRecord(id: "", variants: [], metaSHA256: "")
            record.variants = nil
            record.metaSHA256 = nil
            try fields { (reader: inout Reader, key: String) throws(Declined) in
                switch key {
                case "id": id = try reader.string()
                case "filename":
                    record.filename = try reader.optionalString()
                case "uploaded":
                    record.uploaded = try reader.optionalString()
                case "variants":
                    record.variants = try reader.optional { (r: inout Reader) throws(Declined) in
                        try r.array { (r: inout Reader) throws(Declined) in try r.string() }
                    }
                case "requireSignedURLs":
                    record.requireSignedURLs = try reader.optionalBool()
                case "meta": try reader.optional { (r: inout Reader) throws(Declined) in try r.meta(into: &record) }
                default: try reader.skipValue(depth: 2)
                }
            }
            // A result without an id is no image: JSONDecoder's answer there (a nil result) is left to it.
            guard let id else { throw Declined() }
            record.id = id
            return record
        }

        mutating func meta(into record: inout ImageRecord) throws(Declined) {
            try fields { (reader: inout Reader, key: String) throws(Declined) in
                switch key {
                case "sha256":
                    record.metaSHA256 = try reader.optionalString()
                case "imagedrop_job":
                    record.metaJobKey = try reader.optionalString()
                case "source_path":
                    record.metaSourcePath = try reader.optionalString()
                default: try reader.skipValue(depth: 3)
                }
            }
        }

        // MARK: - JSON

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func peek() throws(Declined) -> UInt8 {
            skipSpace()
            guard index < bytes.count else { throw Declined() }
            return bytes[index]
        }

        mutating func expect(_ byte: UInt8) throws(Declined) {
            guard try peek() == byte else { throw Declined() }
            index += 1
        }

        mutating func literal(_ text: StaticString) throws(Declined) {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw Declined() }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { throw Declined() }
            index += count
        }

        /// `null` as nil, else the value `read` expects.
        mutating func optional<T>(_ read: (inout Reader) throws(Declined) -> T) throws(Declined) -> T? {
            if try peek() == UInt8(ascii: "n") {
                try literal("null")
                return nil
            }
            return try read(&self)
        }

        mutating func bool() throws(Declined) -> Bool {
            switch try peek() {
            case UInt8(ascii: "t"):
                try literal("true")
                return true
            case UInt8(ascii: "f"):
                try literal("false")
                return false
            default: throw Declined()
            }
        }

        /// A plain integer of up to 18 digits, no sign on zero: what an error code is.
        mutating func integer() throws(Declined) -> Int {
            _ = try peek()
            var negative = false
            if bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            let start = index
            var value = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                // Checked before the digit is added: a 19th would overflow Int (the fuzzer's first find).
                guard index - start < 18 else { throw Declined() }
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            let digits = index - start
            guard digits > 0, !(digits > 1 && bytes[start] == 0x30), !(negative && value == 0) else { throw Declined() }
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
                throw Declined()
            }
            return negative ? -value : value
        }

        /// A string without `\u` escapes, in valid UTF-8.
        mutating func string() throws(Declined) -> String {
            try expect(UInt8(ascii: "\""))
            let start = index
            var plain = true
            while true {
                guard index < bytes.count else { throw Declined() }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") { break }
                guard byte >= 0x20 else { throw Declined() }
                if byte == UInt8(ascii: "\\") {
                    plain = false
                    index += 2
                } else {
                    index += 1
                }
            }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
            index += 1
            let text: [UInt8]
            if plain {
                text = Array(raw)
            } else {
                text = try Self.unescape(raw)
            }
            guard let string = String(validating: text, as: UTF8.self) else { throw Declined() }
            return string
        }

        static func unescape(_ raw: UnsafeBufferPointer<UInt8>) throws(Declined) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var position = 0
            while position < raw.count {
                let byte = raw[position]
                position += 1
                guard byte == UInt8(ascii: "\\") else {
                    out.append(byte)
                    continue
                }
                // `\u` (surrogates, NUL) and anything invalid: JSONDecoder's to judge.
                guard position < raw.count, let byte = JSONString.unescaped(raw[position]) else { throw Declined() }
                position += 1
                out.append(byte)
            }
            return out
        }

        /// An object of a known shape: as `object`, a key met twice declined (which of the two JSONDecoder
        /// keeps is its business).
        mutating func fields(_ member: (inout Reader, String) throws(Declined) -> Void) throws(Declined) {
            var seen = Set<String>()
            try object { (reader: inout Reader, key: String) throws(Declined) in
                guard seen.insert(key).inserted else { throw Declined() }
                try member(&reader, key)
            }
        }

        mutating func optionalString() throws(Declined) -> String? {
            try optional { (reader: inout Reader) throws(Declined) in try reader.string() }
        }

        mutating func optionalBool() throws(Declined) -> Bool? {
            try optional { (reader: inout Reader) throws(Declined) in try reader.bool() }
        }

        /// An object's members: each key (escaped keys declined) handed to `member`, which reads its value.
        mutating func object(_ member: (inout Reader, String) throws(Declined) -> Void) throws(Declined) {
            try expect(UInt8(ascii: "{"))
            if try peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                _ = try peek()
                let before = index
                let key = try string()
                if bytes[before..<index].contains(UInt8(ascii: "\\")) { throw Declined() }
                try expect(UInt8(ascii: ":"))
                try member(&self, key)
                switch try peek() {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return
                default: throw Declined()
                }
            }
        }

        mutating func array<T>(_ element: (inout Reader) throws(Declined) -> T) throws(Declined) -> [T] {
            try expect(UInt8(ascii: "["))
            var elements: [T] = []
            if try peek() == UInt8(ascii: "]") {
                index += 1
                return elements
            }
            while true {
                elements.append(try element(&self))
                switch try peek() {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return elements
                default: throw Declined()
                }
            }
        }

        /// Any value nobody reads, checked as strictly as the rest (a document JSONDecoder would refuse must not
        /// be answered here). Numbers: plain integers and decimals of up to 15 digits, no exponent.
        mutating func skipValue(depth: Int) throws(Declined) {
            guard depth < 32 else { throw Declined() }
            switch try peek() {
            case UInt8(ascii: "{"):
                try object { (reader: inout Reader, _: String) throws(Declined) in
                    try reader.skipValue(depth: depth + 1)
                }
            case UInt8(ascii: "["):
                _ = try array { (reader: inout Reader) throws(Declined) in try reader.skipValue(depth: depth + 1) }
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
            case UInt8(ascii: "n"): try literal("null")
            default: try skipNumber()
            }
        }

        mutating func skipNumber() throws(Declined) {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let start = index
            var digits = 0
            func isDigit(_ at: Int) -> Bool { at < bytes.count && (0x30...0x39).contains(bytes[at]) }
            while isDigit(index) {
                index += 1
                digits += 1
            }
            let whole = index - start
            guard whole > 0, !(whole > 1 && bytes[start] == 0x30) else { throw Declined() }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard isDigit(index) else { throw Declined() }
                while isDigit(index) {
                    index += 1
                    digits += 1
                }
            }
            guard digits <= 15 else { throw Declined() }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                throw Declined()
            }
        }
    }
}
