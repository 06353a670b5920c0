import ImagedropParsing
import ImagedropSupport
import ImagedropSystem

/// Small JSON helpers for the few JSON values stored in the table (the `variants` array).
package enum JSONText {
    package static func encodeStringArray(_ values: [String]) -> String {
        JSONWriter.compactString(values)
    }

    package static func decodeStringArray(_ text: String) -> [String] {
        JSONReader.value(Array(text.utf8)) as? [String] ?? []
    }
}
