import FoundationEssentials
import ImagedropSupport
import ImagedropSystem

/// `imagedrop export`: path → image id → variant URLs, streamed row by row so a million rows need the
/// memory of one.
extension JobStore {
    package enum ExportFormat: String, CaseIterable, Sendable { case csv, json, ndjson }

    /// `state` nil with `includeAll`: every job; nil without: done jobs. `latestOnly`: of the selected jobs, only
    /// the newest of each path (its current version). CSV keeps its columns (scripts index them); JSON and
    /// NDJSON also carry `last_error` and `path_raw_hex` (the exact bytes of a name that is not UTF-8).
    package func export(
        format: ExportFormat, includeAll: Bool, state: JobState? = nil, latestOnly: Bool = false,
        source: String? = nil, write: (String) -> Void
    ) throws {
        try withDatabase { db in
            var filter = state.map { "state = '\($0.rawValue)'" } ?? (includeAll ? "1" : "state = 'done'")
            // Bound as ?1 (a source name is checked, but never spliced into SQL).
            if source != nil { filter += hasSource ? " AND source = ?1" : " AND ?1 = 'default'" }
            let latest = latestOnly ? " AND id IN (SELECT max(id) FROM jobs WHERE \(filter) GROUP BY path_key)" : ""
            let statement = try db.prepare(
                """
                SELECT id, path, state, image_id, variants, sha256, uploaded_at, size,
                       \(hasMovedTo ? "moved_to" : "NULL AS moved_to"), last_error, hex(path_raw) FROM jobs
                WHERE \(filter)\(latest) ORDER BY id
                """)
            if let source { statement.bind(1, source) }
            var first = true
            switch format {
            case .csv: write("id,path,state,image_id,sha256,uploaded_at,size,variants,moved_to\n")
            case .json: write("[")
            case .ndjson: break
            }
            while try statement.step() {
                switch format {
                case .csv:
                    let variants = statement.string(4).map(JSONText.decodeStringArray) ?? []
                    let fields = [
                        String(statement.int64(0)), statement.string(1) ?? "", statement.string(2) ?? "",
                        statement.string(3) ?? "", statement.string(5) ?? "", statement.string(6) ?? "",
                        statement.optionalInt(7).map(String.init) ?? "", variants.joined(separator: " "),
                        statement.string(8) ?? "",
                    ]
                    write(fields.map(Self.csvField).joined(separator: ",") + "\n")
                case .json, .ndjson:
                    // `variants` is a JSON array that imagedrop itself wrote: it is embedded as it is.
                    let rawHex = statement.string(10).flatMap { $0.isEmpty ? nil : $0.lowercased() }
                    let line =
                        "{\"id\":\(statement.int64(0)),\"image_id\":\(JSONString.optional(statement.string(3))),"
                        + "\"last_error\":\(JSONString.optional(statement.string(9))),"
                        + "\"moved_to\":\(JSONString.optional(statement.string(8))),"
                        + "\"path_raw_hex\":\(JSONString.optional(rawHex)),"
                        + "\"path\":\(JSONString.quoted(statement.string(1) ?? "")),"
                        + "\"sha256\":\(JSONString.optional(statement.string(5))),"
                        + "\"size\":\(statement.optionalInt(7).map(String.init) ?? "null"),"
                        + "\"state\":\(JSONString.quoted(statement.string(2) ?? "")),"
                        + "\"uploaded_at\":\(JSONString.optional(statement.string(6))),"
                        + "\"variants\":\(statement.string(4) ?? "[]")}"
                    if format == .json { write((first ? "\n" : ",\n") + line) } else { write(line + "\n") }
                }
                first = false
            }
            if format == .json { write(first ? "]\n" : "\n]\n") }
        }
    }

    /// RFC 4180: quote fields with commas, quotes or line breaks; double the quotes inside.
    package static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }
}
