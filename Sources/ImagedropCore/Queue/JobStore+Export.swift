import Foundation

/// `imagedrop export`: path → image id → variant URLs, streamed row by row so a million rows need the
/// memory of one.
extension JobStore {
    public enum ExportFormat: String, CaseIterable, Sendable { case csv, json, ndjson }

    public func export(format: ExportFormat, includeAll: Bool, write: (String) -> Void) throws {
        try withDatabase { db in
            let statement = try db.prepare("""
                SELECT id, path, state, image_id, variants, sha256, uploaded_at, size FROM jobs
                \(includeAll ? "" : "WHERE state = 'done'") ORDER BY id
                """)
            var first = true
            switch format {
            case .csv: write("id,path,state,image_id,sha256,uploaded_at,size,variants\n")
            case .json: write("[")
            case .ndjson: break
            }
            while try statement.step() {
                let variants = statement.string(4).map(JSONText.decodeStringArray) ?? []
                switch format {
                case .csv:
                    let fields = [String(statement.int64(0)), statement.string(1) ?? "", statement.string(2) ?? "",
                                  statement.string(3) ?? "", statement.string(5) ?? "", statement.string(6) ?? "",
                                  statement.optionalInt(7).map(String.init) ?? "", variants.joined(separator: " ")]
                    write(fields.map(Self.csvField).joined(separator: ",") + "\n")
                case .json, .ndjson:
                    let object: [String: Any] = [
                        "id": statement.int64(0), "path": statement.string(1) ?? "", "state": statement.string(2) ?? "",
                        "image_id": statement.string(3) as Any? ?? NSNull(), "variants": variants,
                        "sha256": statement.string(5) as Any? ?? NSNull(), "uploaded_at": statement.string(6) as Any? ?? NSNull(),
                        "size": statement.optionalInt(7) as Any? ?? NSNull(),
                    ]
                    let line = JobRendering.json(object)
                    if format == .json { write((first ? "\n" : ",\n") + line) } else { write(line + "\n") }
                }
                first = false
            }
            if format == .json { write(first ? "]\n" : "\n]\n") }
        }
    }

    /// RFC 4180: quote fields with commas, quotes or line breaks; double the quotes inside.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
