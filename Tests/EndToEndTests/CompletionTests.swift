import Foundation
import ImagedropStore
import ImagedropTestSupport
import Testing

/// The shell completions the package installs: option values, not only option names (issue 22, item 10).
@Suite("Shell completions")
struct CompletionTests {
    @Test(
        "bash, zsh and fish complete --state with the job states, --log-level with the levels, --format with the export formats"
    )
    func fixedValues() throws {
        let fixture = try DaemonFixture()
        for shell in ["bash", "zsh", "fish"] {
            let (status, script, error) = try fixture.runCommand(["--generate-completion-script", shell])
            #expect(status == 0, "\(shell): \(error)")
            for state in JobState.allCases.map(\.rawValue) {
                #expect(script.contains(state), "\(shell): --state does not offer \(state)")
            }
            for word in ["trace", "debug", "notice", "warning", "critical", "csv", "ndjson"] {
                #expect(script.contains(word), "\(shell): no \(word)")
            }
            // --source is completed by calling the binary back (the names are the config's, known only then).
            #expect(
                script.contains("---completion list -- --source"), "\(shell): --source is not completed by the binary")
        }
    }

    @Test("--source completes the sources of the config named on the command line, and nothing when it does not load")
    func sourceNames() throws {
        // A folder beside the fixture's, not around it (sources may not nest); it need not exist to be completed.
        let fixture = try DaemonFixture(
            extraConfig: """
                [[source]]
                name = "products"
                paths = ["\(NSTemporaryDirectory())imagedrop-completion-\(UUID().uuidString)"]
                """)
        // What the generated scripts run: ---completion SUBCOMMAND -- OPTION WORD-INDEX CURSOR WORDS...
        let words = ["imagedrop", "list", "-c", fixture.configPath, "--source", ""]
        let (status, out, error) = try fixture.runCommand(
            ["---completion", "list", "--", "--source", "5", "0"] + words)
        #expect(status == 0, "\(error)")
        #expect(out.split(separator: "\n").map(String.init) == ["default", "products"], "\(out)")

        let broken = ["imagedrop", "export", "--config", "/nonexistent/imagedrop.toml", "--source", ""]
        let (brokenStatus, brokenOut, brokenError) = try fixture.runCommand(
            ["---completion", "export", "--", "--source", "5", "0"] + broken)
        #expect(
            brokenStatus == 0 && brokenOut.isEmpty && brokenError.isEmpty, "\(brokenStatus) \(brokenOut) \(brokenError)"
        )
    }
}
