import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagesEmulator

@Suite("Image quota")
struct QuotaTests {
    static func png(_ seed: UInt64) -> [UInt8] { SampleImages.png(width: 8, height: 8, seed: seed) }

    @Test("uploads beyond the quota answer 400/5453 and store nothing; stats report allowed and current")
    func quota() throws {
        try withEmulator({ $0.faults.imageQuota = 2 }) { server throws in
            #expect(try server.upload(Self.png(1)).status == 200)
            #expect(try server.upload(Self.png(2), fields: [("id", "fixed/id.png")]).status == 200)
            let refused = try server.upload(Self.png(3))
            #expect(refused.status == 400)
            #expect(refused.errorCode == 5453)
            #expect(refused.text.contains("reached a service limit"), "\(refused.text)")
            #expect(server.storedImages().count == 2)
            // A custom id already stored is still the duplicate it is, quota or not.
            #expect(try server.upload(Self.png(2), fields: [("id", "fixed/id.png")]).errorCode == 5409)
            let stats = try server.send("GET", server.imagesPath + "/stats")
            #expect(stats.result?["count"]?["allowed"] == .number("2"))
            #expect(stats.result?["count"]?["current"] == .number("2"))
            // A deleted image makes room.
            #expect(try server.send("DELETE", server.imagesPath + "/fixed%2Fid.png").status == 200)
            #expect(try server.upload(Self.png(3)).status == 200)
        }
    }

    @Test("the admin route raises, reports and clears the quota at run time")
    func adminRoute() throws {
        try withEmulator({ $0.faults.imageQuota = 1 }) { server throws in
            #expect(try server.upload(Self.png(1)).status == 200)
            #expect(try server.upload(Self.png(2)).errorCode == 5453)
            let raised = try server.send(
                "PUT", "/__emulator/faults", headers: [], body: Array(#"{"imageQuota": 2}"#.utf8))
            #expect(raised.status == 200)
            #expect(raised.json["imageQuota"] == .number("2"))
            #expect(try server.upload(Self.png(2)).status == 200)
            #expect(try server.upload(Self.png(3)).errorCode == 5453)
            #expect(
                try server.send("PUT", "/__emulator/faults", headers: [], body: Array(#"{"imageQuota": -1}"#.utf8))
                    .status == 400)
            #expect(
                try server.send("PUT", "/__emulator/faults", headers: [], body: Array(#"{"imageQuota": null}"#.utf8))
                    .status == 200)
            #expect(try server.send("GET", "/__emulator/faults", headers: []).json["imageQuota"] == .null)
            #expect(try server.upload(Self.png(3)).status == 200)
            #expect(
                try server.send("GET", server.imagesPath + "/stats").result?["count"]?["allowed"] == .number("100000"))
        }
    }
}
