import Foundation
import ImagedropStore
import ImagesEmulator
import Testing

/// Account-owned API tokens: Cloudflare verifies them only at `/accounts/{id}/tokens/verify` and answers the
/// user route 401/1000. `check` must try both routes; the daemon uploads with them like any token.
@Suite("Account-owned API tokens end to end", .serialized)
struct AccountTokenTests {
    static func fixture() throws -> DaemonFixture {
        var emulator = EmulatorConfiguration()
        emulator.accountTokens = [DaemonFixture.sharedToken]
        return try DaemonFixture(emulator: emulator)
    }

    @Test(
        "check exits 0 with an account-owned token (user route refused, account route accepted), 69 with an unknown one"
    )
    func check() throws {
        let fixture = try Self.fixture()
        let (status, out, err) = try fixture.runCommand(["check", "--config", fixture.configPath])
        #expect(status == 0, "\(out)\(err)")
        #expect(out.contains("token active (account-owned"), "\(out)")
        #expect(out.contains("images:   token may write Images"), "\(out)")
        let verifies = fixture.emulator.requestLog().filter { $0.path.hasSuffix("/tokens/verify") }
        #expect(
            verifies.map(\.path) == [
                "/client/v4/user/tokens/verify", "/client/v4/accounts/\(fixture.accountID)/tokens/verify",
            ])
        #expect(verifies.map(\.status) == [401, 200])

        let (refused, refusedOut, refusedErr) = try fixture.runCommand(
            ["check", "--config", fixture.configPath],
            environment: ["CLOUDFLARE_API_TOKEN": "unknown-token-0123456789"])
        #expect(refused == 69, "\(refusedOut)\(refusedErr)")
        #expect(refusedErr.contains("at /user/tokens/verify") && refusedErr.contains("/tokens/verify"), "\(refusedErr)")
        #expect(refusedErr.contains("code 1000"), "\(refusedErr)")
    }

    @Test("the daemon uploads with an account-owned token, and its paused queue's re-probe accepts it again")
    func uploads() throws {
        let fixture = try Self.fixture()
        try fixture.start()
        for index in 0..<3 { try fixture.drop("a\(index).png", seed: UInt64(300 + index)) }
        #expect(fixture.waitForFinished(count: 3))
        #expect(try fixture.jobs().allSatisfy { $0.state == .done && $0.attempts == 1 })

        // Refused for a while: the queue pauses; the re-probe (an account route) lifts it with the same token.
        var faults = FaultConfiguration()
        faults.refuseTokens = true
        fixture.emulator.setFaults(faults)
        try fixture.drop("b.png", seed: 310)
        #expect(
            fixture.waitUntil(seconds: 30) { OutageTests.pausedReason(fixture)?.hasPrefix("token refused") == true })
        fixture.emulator.setFaults(FaultConfiguration())
        #expect(fixture.waitForFinished(count: 4))
        #expect(try fixture.jobs().allSatisfy { $0.state == .done && $0.attempts == 1 })
        #expect(fixture.log.contains("token accepted again; queue resumed"), "\(fixture.log)")
        #expect(fixture.emulator.storedImages().count == 4)
        #expect(fixture.stop() == 0)
    }
}
