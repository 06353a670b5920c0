import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// The readers never answer from a table they could not read: a monitoring script must not be told "0 jobs,
/// not running" when the table is there and this user may not read it, or its folder is a typo.
@Suite("Readers never guess", .serialized)
struct UnreadableDatabaseTests {
    /// Every reader, as an operator types it (`status --check` too: it must not say "not running").
    static let readers: [[String]] = [
        ["status"], ["status", "--json"], ["status", "--check"], ["list"], ["show", "1"], ["export"],
    ]

    /// A fixture nobody (uid 65534) may enter and whose config it may read, with a table root wrote.
    static func rootOwnedTable() throws -> DaemonFixture {
        let fixture = try DaemonFixture()
        _ = try JobStore.openForWriting(path: fixture.database)
        chmod(fixture.directory, 0o755)
        chmod(fixture.directory + "/state", 0o755)
        chmod(fixture.configPath, 0o644)
        return fixture
    }

    @Test(
        "a root-owned 0600 table, read as nobody: every reader exits 77 with one line naming the file, never zero counts"
    )
    func permissionDenied() throws {
        let fixture = try Self.rootOwnedTable()
        for file in [fixture.database, fixture.database + "-wal", fixture.database + "-shm"] { chmod(file, 0o600) }
        for reader in Self.readers {
            let (status, out, error) = try ExitCodeTests.runAsNobody(
                fixture, reader + ["--config", fixture.configPath])
            #expect(status == 77, "\(reader): \(status) \(out) \(error)")
            #expect(out.isEmpty, "\(reader) printed an answer it could not know: \(out)")
            #expect(error.split(separator: "\n").count == 1, "\(reader): \(error)")
            #expect(
                error.contains("cannot read database \(fixture.database): permission denied for uid 65534"),
                "\(reader): \(error)")
            #expect(error.contains("owned by uid 0, gid 0, mode 600"), "\(reader): \(error)")
        }
    }

    @Test(
        "the writers (enqueue, retry, prune, dismiss, webhook) exit 77 too when this user may not write the table, naming it"
    )
    func writersPermissionDenied() throws {
        let fixture = try Self.rootOwnedTable()
        let image = fixture.directory + "/extra.png"
        try writeFile(atPath: image, contents: Data(SampleImages.png(width: 8, height: 8, seed: 5)))
        chmod(image, 0o644)
        let writers: [[String]] = [
            ["enqueue", image], ["retry", "--all-failed"], ["prune", "--older-than-days", "1"],
            ["dismiss", "--all-failed"], ["webhook", "retry"],
        ]
        for writer in writers {
            let (status, _, error) = try ExitCodeTests.runAsNobody(fixture, writer + ["--config", fixture.configPath])
            #expect(status == 77, "\(writer): \(status) \(error)")
            #expect(error.contains(fixture.database), "\(writer) names the table: \(error)")
        }
    }

    @Test("a table folder nobody may enter: 77 naming the folder (whether the file exists cannot be known)")
    func folderNotSearchable() throws {
        let fixture = try Self.rootOwnedTable()
        chmod(fixture.directory + "/state", 0o700)
        for reader in Self.readers {
            let (status, out, error) = try ExitCodeTests.runAsNobody(
                fixture, reader + ["--config", fixture.configPath])
            #expect(status == 77, "\(reader): \(status) \(out) \(error)")
            #expect(error.contains("\(fixture.directory)/state is owned by uid 0"), "\(reader): \(error)")
        }
    }

    @Test(
        "a database folder that does not exist: 65 naming it; the same folder existing without a file: zero counts, 0")
    func missingFolder() throws {
        let fixture = try DaemonFixture()
        let typo = fixture.directory + "/sate"
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: fixture.directory + "/state/", with: typo + "/")
            .write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        for reader in Self.readers {
            let (status, out, error) = try fixture.runCommand(reader + ["--config", fixture.configPath])
            #expect(status == 65, "\(reader): \(status) \(out) \(error)")
            #expect(out.isEmpty, "\(reader): \(out)")
            #expect(error.contains("its folder \(typo) does not exist"), "\(reader): \(error)")
        }
        #expect(access(typo, F_OK) != 0, "a reader created the folder")

        try FileManager.default.createDirectory(atPath: typo, withIntermediateDirectories: false)
        let (status, out, error) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        #expect(status == 0, "\(error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect((object["jobs"] as? [String: Int])?["total"] == 0)
        let check = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
        #expect(check.0 == 3 && check.1 == "not running\n", "\(check)")
    }

    @Test("a file that is not a database: status --check exits 65 too, not 3 (\"not running\")")
    func notADatabaseForCheck() throws {
        let fixture = try DaemonFixture()
        try writeFile(atPath: fixture.database, contents: Data(repeating: 0x41, count: 4096))
        for reader in Self.readers {
            let (status, out, error) = try fixture.runCommand(reader + ["--config", fixture.configPath])
            #expect(status == 65, "\(reader): \(status) \(out) \(error)")
            #expect(
                error.contains("cannot read database \(fixture.database): file is not a database"),
                "\(reader): \(error)")
        }
    }
}
