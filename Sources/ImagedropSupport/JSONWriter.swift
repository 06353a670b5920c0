/// JSON text from `[String: Any]` graphs, written exactly as Foundation's JSONSerialization wrote them (the
/// `show`/`export`/`status` output and the webhook bodies are contracts, byte for byte): JSONSerialization
/// lives in swift-corelibs-foundation, whose link pulls ICU and 40 MB into the static binary, for a writer
/// this short. Values: String, Bool, the integer types, Double/Float, arrays, `[String: …]` dictionaries,
/// `JSONNull` and nil.
package enum JSONWriter {
    package struct Options: OptionSet, Sendable {
        package let rawValue: Int
        package init(rawValue: Int) { self.rawValue = rawValue }
        package static let sortedKeys = Options(rawValue: 1)
        package static let prettyPrinted = Options(rawValue: 2)
        /// `/` as `\/`, as JSONSerialization does unless told `.withoutEscapingSlashes`.
        package static let escapingSlashes = Options(rawValue: 4)
    }

    package struct InvalidValue: Error, CustomStringConvertible {
        package var description: String
    }

    package static func string(_ value: Any?, options: Options = [.sortedKeys]) throws(InvalidValue) -> String {
        var writer = Writer(options: options)
        try writer.write(value)
        return writer.out
    }

    /// A `[String]` as `string(_:options: [])` writes it, without boxing each element as `Any` (a job's
    /// `variants` are written this way at every upload).
    package static func compactString(_ values: [String]) -> String {
        var writer = Writer(options: [])
        writer.out += "["
        for (index, value) in values.enumerated() {
            if index > 0 { writer.out += "," }
            writer.writeString(value)
        }
        writer.out += "]"
        return writer.out
    }

    /// JSONSerialization's `.sortedKeys` order (CFString's compare with `.numeric`, `.caseInsensitive` and
    /// `.forcedOrdering`, which collates as ICU's root locale): for ASCII, spaces, then punctuation in the
    /// collation's order, then digits (a run of them by its value), then letters ignoring case; anything
    /// else after, by code point; ties by code point.
    package static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        var i = 0
        var j = 0
        while i < x.count, j < y.count {
            if isDigit(x[i]), isDigit(y[j]) {
                var endX = i
                var endY = j
                while endX < x.count, isDigit(x[endX]) { endX += 1 }
                while endY < y.count, isDigit(y[endY]) { endY += 1 }
                let digitsX = x[i..<endX].drop { $0 == "0" }
                let digitsY = y[j..<endY].drop { $0 == "0" }
                if digitsX.count != digitsY.count { return digitsX.count < digitsY.count }
                for (dx, dy) in zip(digitsX, digitsY) where dx != dy { return dx.value < dy.value }
                i = endX
                j = endY
                continue
            }
            let rankX = rank(x[i])
            let rankY = rank(y[j])
            if rankX != rankY { return rankX < rankY }
            i += 1
            j += 1
        }
        if (x.count - i) != (y.count - j) { return x.count - i < y.count - j }
        return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x30 && scalar.value <= 0x39 }

    /// ASCII punctuation and symbols in the root collation's order.
    private static let punctuation = Array("_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$".unicodeScalars)

    private static func rank(_ scalar: Unicode.Scalar) -> UInt64 {
        let value = UInt64(scalar.value)
        if value <= 0x20 || value == 0x7F { return value }
        if let index = punctuation.firstIndex(of: scalar) { return 0x100 + UInt64(index) }
        if isDigit(scalar) { return 0x200 + value }
        if value >= 0x41 && value <= 0x5A { return 0x300 + value + 0x20 }
        if value >= 0x61 && value <= 0x7A { return 0x300 + value }
        return 0x1000 + value
    }

    private struct Writer {
        let options: Options
        var out = ""
        var indent = 0

        init(options: Options) { self.options = options }

        mutating func write(_ value: Any?) throws(InvalidValue) {
            guard let value = Self.unwrapped(value) else {
                out += "null"
                return
            }
            switch value {
            case let text as String: writeString(text)
            case let flag as Bool: out += flag ? "true" : "false"
            case let number as Int: out += String(number)
            case let number as Int64: out += String(number)
            case let number as Int32: out += String(number)
            case let number as UInt64: out += String(number)
            case let number as UInt32: out += String(number)
            case let number as UInt: out += String(number)
            case let number as Double: try writeFloat(number)
            case let number as Float: try writeFloat(Double(number))
            case is JSONNull: out += "null"
            case let dictionary as [String: Any]: try writeObject(dictionary.map { ($0.key, $0.value as Any?) })
            case let dictionary as [String: Any?]: try writeObject(dictionary.map { ($0.key, $0.value) })
            case let array as [Any]: try writeArray(array.map { $0 as Any? })
            case let array as [Any?]: try writeArray(array)
            default: throw InvalidValue(description: "cannot write a \(type(of: value)) as JSON")
            }
        }

        /// An `Any` holding `Optional.none` is null, whatever the optional's type.
        private static func unwrapped(_ value: Any?) -> Any? {
            guard let value else { return nil }
            let mirror = Mirror(reflecting: value)
            guard mirror.displayStyle == .optional else { return value }
            return mirror.children.first.flatMap { unwrapped($0.value) }
        }

        private mutating func writeFloat(_ number: Double) throws(InvalidValue) {
            guard number.isFinite else { throw InvalidValue(description: "\(number) is not a JSON number") }
            var text = number.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out += text
        }

        mutating func writeString(_ text: String) {
            out += "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "/": out += options.contains(.escapingSlashes) ? "\\/" : "/"
                case "\u{8}": out += "\\b"
                case "\u{c}": out += "\\f"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{0}"..."\u{f}": out += "\\u000" + String(scalar.value, radix: 16)
                case "\u{10}"..."\u{1f}": out += "\\u00" + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            out += "\""
        }

        private mutating func writeArray(_ array: [Any?]) throws(InvalidValue) {
            let pretty = options.contains(.prettyPrinted)
            out += "["
            if pretty {
                out += "\n"
                indent += 2
            }
            for (index, element) in array.enumerated() {
                if index > 0 { out += pretty ? ",\n" : "," }
                if pretty { writeIndent() }
                try write(element)
            }
            if pretty {
                out += "\n"
                indent -= 2
                writeIndent()
            }
            out += "]"
        }

        private mutating func writeObject(_ pairs: [(String, Any?)]) throws(InvalidValue) {
            let pretty = options.contains(.prettyPrinted)
            out += "{"
            if pretty {
                out += "\n"
                indent += 2
                if !pairs.isEmpty { writeIndent() }
            }
            let ordered = options.contains(.sortedKeys) ? pairs.sorted { JSONWriter.keyPrecedes($0.0, $1.0) } : pairs
            for (index, pair) in ordered.enumerated() {
                if index > 0 {
                    if pretty {
                        out += ",\n"
                        writeIndent()
                    } else {
                        out += ","
                    }
                }
                writeString(pair.0)
                out += pretty ? " : " : ":"
                try write(pair.1)
            }
            if pretty {
                out += "\n"
                indent -= 2
                writeIndent()
            }
            out += "}"
        }

        private mutating func writeIndent() { out += String(repeating: " ", count: indent) }
    }
}

/// JSON's null in a `[String: Any]` graph (what NSNull was).
package struct JSONNull: Sendable, Hashable {
    package init() {}
}
