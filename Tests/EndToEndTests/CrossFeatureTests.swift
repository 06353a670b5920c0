import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Testing

/// Where two features meet (found by reviewing the merged branches): each rule must reach the other's code.
@Suite("Features that meet", .serialized)
struct CrossFeatureTests {
    @Test("enqueue --url with a path that does not exist queues nothing: paths are checked before the URLs go in")
    func urlsWaitForPathCheck() throws {
        let fixture = try DaemonFixture()
        let (status, _, error) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath,
            "/nonexistent/typo", "--url", "http://127.0.0.1:9/a.png",
        ])
        #expect(status == 65, "\(error)")
        #expect(error.contains("/nonexistent/typo"))
        #expect(fixture.counts().values.reduce(0, +) == 0)
    }

    @Test("retry --force of a done job whose file was moved to done_dir says where it is and leaves it done")
    func retryOfMovedFile() throws {
        let fixture = try DaemonFixture()
        let done = fixture.directory + "/done"
        try fixture.writeConfig(
            settleMillis: 100,
            extra: """
                [after_upload]
                on_success = "move"
                done_dir = "\(done)"
                """)
        try fixture.start()
        try fixture.drop("moved.png", seed: 81)
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.waitUntil(seconds: 10) { access(done + "/moved.png", F_OK) == 0 })
        #expect(fixture.stop() == 0)
        let (status, _, error) = try fixture.runCommand(["retry", "--config", fixture.configPath, "--force", "1"])
        #expect(status == 65, "\(error)")
        #expect(error.contains("no longer there") && error.contains(done + "/moved.png"), "\(error)")
        #expect(try fixture.jobs().first?.state == .done)
    }

    @Test("webhook.secret_file, relative, is read from the config file's folder like every other path key")
    func relativeSecretFile() throws {
        let fixture = try DaemonFixture()
        try "s3cret-for-the-test\n".write(
            toFile: fixture.directory + "/webhook.secret", atomically: true, encoding: .utf8)
        try fixture.writeConfig(
            settleMillis: 100,
            extra: """
                [webhook]
                url = "http://127.0.0.1:9/hook"
                secret_file = "webhook.secret"
                """)
        let (status, _, error) = try DaemonFixture.run(
            DaemonFixture.binary("imagedrop"),
            ["check", "--offline", "--config", fixture.configPath],
            environment: fixture.environment, currentDirectory: "/")
        #expect(status == 0, "\(error)")
    }
}
