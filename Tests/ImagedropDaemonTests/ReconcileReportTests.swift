import Foundation
import Testing

@testable import ImagedropDaemon
@testable import ImagedropStore
@testable import ImagedropSystem

/// The report `reconcile` streams: the summary line, the JSON object's keys in their order with every array
/// present, and the exit status from what is left after fixing.
@Suite("Reconcile report")
struct ReconcileReportTests {
    static func job(_ id: Int64) -> Job {
        Job(
            id: id, path: RawPath("/drop/\(id).png"), root: RawPath("/drop"), state: .done, attempts: 1, lastError: nil,
            lastCode: nil, imageID: "img-\(id)", variants: ["https://x/\(id)"], size: 1, mtimeNanos: 1, sha256: "ab",
            jobKey: "k", nextAttemptAtMillis: 0, createdAt: "", updatedAt: "", uploadedAt: nil, afterAction: nil)
    }

    static func render(json: Bool, fixing: Bool, _ differences: [LedgerDifference]) -> (String, Int32) {
        var out = ""
        let report = ReconcileReport(json: json, fixing: fixing) { out += $0 }
        report.begin(images: 7, doneJobs: 5)
        differences.forEach(report.add)
        let status = report.finish()
        return (out, status)
    }

    @Test("in agreement: the summary line alone, exit 0; JSON with empty arrays and zero fixes")
    func agreement() throws {
        let (text, status) = Self.render(json: false, fixing: false, [])
        #expect(text == "7 images in the account, 5 done jobs: 0 missing, 0 unrecorded, 0 stale\n" && status == 0)
        let (json, _) = Self.render(json: true, fixing: false, [])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(
            object["missing"] as? [Any] != nil && object["unrecorded"] as? [Any] != nil
                && object["stale"] as? [Any] != nil)
        #expect(object["fixed"] as? [String: Int] == ["queued": 0, "recorded": 0, "refreshed": 0, "left": 0])
        #expect(json.hasPrefix(#"{"images": 7, "done_jobs": 5, "missing": []"#), "\(json)")
    }

    @Test("one of each, one fixed: a line each, the summary, the fix line and exit 1; the JSON keeps key order")
    func differences() throws {
        let image = AccountImage(id: "img-9", variants: [], sha256: "cd", sourcePath: "9.png")
        let differences: [LedgerDifference] = [
            .missing(Self.job(1), fix: .done("queued again")),
            .unrecorded(image, file: nil, fix: .notFixed("its source_path names no file under the watch roots")),
            .stale(
                StaleJob(job: Self.job(2), accountVariants: ["https://x/2", "https://x/2b"]),
                fix: .done("variants refreshed")),
        ]
        let (text, status) = Self.render(json: false, fixing: true, differences)
        #expect(status == 1)
        #expect(text.contains("missing: job 1 /drop/1.png (image img-1) — queued again\n"))
        #expect(
            text.contains(
                "unrecorded: image img-9 (source_path 9.png, no such file under the watch roots) — not fixed: "))
        #expect(
            text.hasSuffix(
                "7 images in the account, 5 done jobs: 1 missing, 1 unrecorded, 1 stale\n"
                    + "fixed: 1 queued again, 0 recorded, 1 refreshed; 1 left\n"), "\(text)")
        let (json, _) = Self.render(json: true, fixing: true, differences)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect(object["fixed"] as? [String: Int] == ["queued": 1, "recorded": 0, "refreshed": 1, "left": 1])
        let unrecorded = try #require((object["unrecorded"] as? [[String: Any]])?.first)
        #expect(unrecorded["fixed"] as? Bool == false && unrecorded["path"] is NSNull && unrecorded["job_id"] is NSNull)
        let keys = [
            "\"images\": ", "\"done_jobs\": ", "\"missing\": [", "\"unrecorded\": [", "\"stale\": [", "\"fixed\": {",
        ]
        let positions = keys.compactMap { json.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count && positions == positions.sorted())
    }

    @Test("only stale differences: the earlier arrays are still written, empty")
    func sectionsSkipped() throws {
        let (json, _) = Self.render(
            json: true, fixing: false, [.stale(StaleJob(job: Self.job(3), accountVariants: []), fix: nil)])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect((object["missing"] as? [Any])?.isEmpty == true && (object["stale"] as? [Any])?.count == 1)
    }
}
