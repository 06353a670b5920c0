import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// `UploadPlan.make`: id choice, metadata and form fields from the job, the file's facts and the settings.
@Suite("Upload plan")
struct UploadPlanTests {
    static let sha = String(repeating: "ab", count: 32)

    static func job(_ path: String, root: String = "/srv/in", sends: Int = 0) -> Job {
        job(RawPath(path), root: root, sends: sends)
    }

    static func job(_ path: RawPath, root: String = "/srv/in", sends: Int = 0, attempts: Int = 0) -> Job {
        Job(
            id: 7, path: path, root: RawPath(root), state: .uploading, attempts: attempts, lastError: nil,
            lastCode: nil,
            imageID: nil, variants: [], size: 10, mtimeNanos: 1, sha256: nil, jobKey: "job-key-7",
            nextAttemptAtMillis: 0,
            createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z", uploadedAt: nil,
            afterAction: nil, sends: sends)
    }

    static func settings(
        _ edit: (inout Config.Images) -> Void = { _ in }, roots: [String] = ["/srv/in"]
    ) -> UploadPlan.Settings {
        var images = Config.Images()
        edit(&images)
        return .init(images: images, watchRoots: roots)
    }

    static func plan(_ job: Job, _ settings: UploadPlan.Settings) throws -> UploadPlan {
        guard case .upload(let plan) = UploadPlan.make(job: job, file: .init(sha256: sha), settings: settings) else {
            throw PlanError()
        }
        return plan
    }

    struct PlanError: Error {}

    @Test("content-hash ids: prefix + SHA-256; fields id, metadata, requireSignedURLs, creator in that order")
    func contentHash() throws {
        let plan = try Self.plan(
            Self.job("/srv/in/a/b.png"),
            Self.settings {
                $0.idPrefix = "drop/"
                $0.creator = "me"
            })
        #expect(plan.customID == "drop/" + Self.sha)
        #expect(plan.fields.map(\.name) == ["id", "metadata", "requireSignedURLs", "creator"])
        #expect(plan.fields[2].value == "false" && plan.fields[3].value == "me")
        #expect(plan.metadata.contains("\"source_path\":\"a/b.png\"") && plan.metadata.contains(Self.sha))
        #expect(!plan.metadata.contains("imagedrop_job"))
        #expect(plan.filename == "b.png" && !plan.looksForEarlierUploadFirst)
    }

    @Test("path ids: the path under the root, with the root's name first when there are several roots")
    func pathIDs() throws {
        let one = try Self.plan(Self.job("/srv/in/x/y.png"), Self.settings { $0.idMode = .path })
        #expect(one.customID == "x/y.png")
        let two = try Self.plan(
            Self.job("/srv/in/x/y.png"), Self.settings({ $0.idMode = .path }, roots: ["/srv/in", "/srv/other"]))
        #expect(two.customID == "in/x/y.png")
    }

    @Test("signed URLs or Cloudflare ids: no id field, the job key in the metadata, and a resend looks first")
    func cloudflareChosen() throws {
        let signed = try Self.plan(Self.job("/srv/in/s.png"), Self.settings { $0.requireSignedURLs = true })
        #expect(signed.customID == nil && !signed.fields.contains { $0.name == "id" })
        #expect(signed.fields.first { $0.name == "requireSignedURLs" }?.value == "true")
        #expect(signed.metadata.contains("job-key-7") && !signed.looksForEarlierUploadFirst)
        let resend = try Self.plan(Self.job("/srv/in/s.png", sends: 1), Self.settings { $0.idMode = .cloudflare })
        #expect(resend.looksForEarlierUploadFirst)
    }

    @Test("local failures: a non-UTF-8 name with path ids, metadata over 1024 bytes")
    func localFailures() {
        let bad = Self.job(RawPath(bytes: Array("/srv/in/a".utf8) + [0xFF] + Array(".png".utf8)))
        guard
            case .fail(let reason) = UploadPlan.make(
                job: bad, file: .init(sha256: Self.sha), settings: Self.settings { $0.idMode = .path })
        else {
            Issue.record("accepted")
            return
        }
        #expect(reason.contains("not valid UTF-8"))
        if case .fail = UploadPlan.make(job: bad, file: .init(sha256: Self.sha), settings: Self.settings()) {
            Issue.record("content-hash ids do not need a UTF-8 name")
        }
        let big = "{\"note\":\"" + String(repeating: "x", count: 1000) + "\"}"
        guard
            case .fail(let tooBig) = UploadPlan.make(
                job: Self.job("/srv/in/m.png"), file: .init(sha256: Self.sha),
                settings: Self.settings { $0.metadataJSON = big })
        else {
            Issue.record("metadata accepted")
            return
        }
        #expect(tooBig.contains("1024 bytes"))
    }
}
