import FoundationEssentials
import ImagedropSupport

/// JSON text read into the `[String: Any]` graphs JSONSerialization gave (objects, arrays, String, Int —
/// Double when not integral —, Bool, `JSONNull`), through FoundationEssentials' JSONDecoder: JSONSerialization
/// lives in swift-corelibs-foundation, whose link pulls ICU and 40 MB into the static binary.
package enum JSONReader {
    /// The value `bytes` hold, or nil when they are not JSON (a top-level scalar is a value too).
    package static func value(_ bytes: some Sequence<UInt8>) -> Any? {
        (try? JSONDecoder().decode(Node.self, from: Data(bytes)))?.value
    }

    package static func object(_ text: String) -> [String: Any]? { value(Array(text.utf8)) as? [String: Any] }

    private enum Node: Decodable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case array([Node])
        case object([String: Node])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else if let number = try? container.decode(Int.self) {
                self = .int(number)
            } else if let number = try? container.decode(Double.self) {
                self = .double(number)
            } else if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let array = try? container.decode([Node].self) {
                self = .array(array)
            } else {
                self = .object(try container.decode([String: Node].self))
            }
        }

        var value: Any {
            switch self {
            case .null: JSONNull()
            case .bool(let flag): flag
            case .int(let number): number
            case .double(let number): number
            case .string(let text): text
            case .array(let array): array.map(\.value)
            case .object(let object): object.mapValues(\.value)
            }
        }
    }
}
