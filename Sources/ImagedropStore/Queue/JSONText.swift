import Foundation

/// Small JSON helpers for the few JSON values stored in the table (the `variants` array).
package enum JSONText {
    package static func encodeStringArray(_ values: [String]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: values, options: [.withoutEscapingSlashes]) else {
            return "[]"
        }
        return String(decoding: data, as: UTF8.self)
    }

    package static func decodeStringArray(_ text: String) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else { return [] }
        return value
    }
}
