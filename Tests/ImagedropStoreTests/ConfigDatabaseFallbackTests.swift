import Foundation
import Testing

@testable import ImagedropStore

/// The read-only commands find `[queue] database` in a config file that does not load.
@Suite("Database path from a broken config")
struct ConfigDatabaseFallbackTests {
    @Test(
        "the line scan finds [queue] database in a file TOML cannot parse",
        arguments: [
            ("[queue]\ndatabase = \"/srv/db/jobs.sqlite3\"\n[upload\n", "/srv/db/jobs.sqlite3"),
            ("[queue] # the table\n  database=  '/srv/lit\\eral.db'  # a comment\n[x", "/srv/lit\\eral.db"),
            ("queue.database = \"/top/level.db\"\n[watch\n", "/top/level.db"),
            ("[queue]\ndatabase = \"/a \\\"quoted\\\" name\"\n", "/a \"quoted\" name"),
            ("[upload]\ndatabase = \"/not/the/queue.db\"\n[queue]\n", nil),
            ("[[source]]\nname = \"x\"\n[queue]\n# database = \"/commented.db\"\n", nil),
        ] as [(String, String?)])
    func scan(_ text: String, _ expected: String?) {
        #expect(ConfigLoader.scanQueueDatabase(text) == expected)
    }

    @Test("a file that parses but does not validate: its [queue] database, resolved against the file's folder")
    func validationErrorKeepsThePath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fallback-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("imagedrop.toml").path
        try "[queue]\ndatabase = \"state/jobs.sqlite3\"\n[upload]\nworkers = -2\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: file, checkFolders: false) }
        #expect(ConfigLoader.databaseFallback(path: file) == folder.path + "/state/jobs.sqlite3")
        try "[upload]\nworkers = -2\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(
            ConfigLoader.databaseFallback(path: file) == Config().queue.database,
            "no key: the default, as a valid file means")
        #expect(ConfigLoader.databaseFallback(path: folder.path + "/missing.toml") == nil)
    }
}
