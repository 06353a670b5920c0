import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagesEmulator

@Suite("Single-image routes")
struct ImageRouteTests {
    @Test("ids with slashes work raw and %2F-encoded for GET and DELETE")
    func slashIDs() throws {
        try withEmulator { server throws in
            #expect(try server.upload(fields: [("id", "a/b c/d.png")]).status == 200)
            let encoded = try server.send("GET", server.imagesPath + "/a%2Fb%20c%2Fd.png")
            #expect(encoded.status == 200)
            #expect(encoded.result?["id"] == .string("a/b c/d.png"))
            #expect(try server.send("GET", server.imagesPath + "/a/b%20c/d.png").status == 200)
            #expect(try server.send("DELETE", server.imagesPath + "/a/b%20c/d.png").status == 200)
            let gone = try server.send("GET", server.imagesPath + "/a%2Fb%20c%2Fd.png")
            #expect(gone.status == 404)
            #expect(gone.errorCode == 5404)

            #expect(try server.upload(fields: [("id", "x/y.png")]).status == 200)
            let deleted = try server.send("DELETE", server.imagesPath + "/x%2Fy.png")
            #expect(deleted.status == 200)
            #expect(deleted.result == .object([]))
            #expect(server.storedImages().isEmpty)
        }
    }

    @Test("reserved names are routes, not image ids")
    func reservedNames() throws {
        try withEmulator { server throws in
            let stats = try server.send("GET", server.imagesPath + "/stats")
            #expect(stats.result?["count"]?["current"] == .number("0"))
            #expect(try server.send("GET", server.imagesPath + "/variants").status == 200)
            #expect(try server.send("DELETE", server.imagesPath + "/stats").status == 404)
        }
    }

    @Test("PATCH updates metadata, creator and signing, but not signing of a custom id")
    func patch() throws {
        try withEmulator { server throws in
            let id = try #require(try server.upload().result?["id"]?.stringValue)
            let patched = try server.send(
                "PATCH", server.imagesPath + "/" + id,
                headers: [("Authorization", "Bearer t"), ("Content-Type", "application/json")],
                body: Array(#"{"metadata":{"k":"v"},"creator":"c","requireSignedURLs":true}"#.utf8))
            #expect(patched.status == 200)
            #expect(patched.result?["meta"] == .object([("k", .string("v"))]))
            #expect(patched.result?["requireSignedURLs"] == .bool(true))
            #expect(patched.result?["creator"] == .string("c"))

            #expect(try server.upload(fields: [("id", "custom")]).status == 200)
            let refused = try server.send(
                "PATCH", server.imagesPath + "/custom", headers: [("Authorization", "Bearer t")],
                body: Array(#"{"requireSignedURLs":true}"#.utf8))
            #expect(refused.errorCode == 5410)
        }
    }

    @Test("the blob route returns the bytes only when they are stored")
    func blob() throws {
        let png = SampleImages.png(width: 7, height: 7)
        try withEmulator({ $0.storeBytes = true }) { server throws in
            #expect(try server.upload(png, fields: [("id", "keep/me")]).status == 200)
            let blob = try server.send("GET", server.imagesPath + "/keep%2Fme/blob")
            #expect(blob.status == 200)
            #expect(blob.header("content-type") == "image/png")
            #expect(blob.body == png)
            #expect(try server.send("GET", server.imagesPath + "/keep/me/blob").body == png)
        }
        try withEmulator { server throws in
            #expect(try server.upload(png, fields: [("id", "keep/me")]).status == 200)
            #expect(try server.send("GET", server.imagesPath + "/keep/me/blob").status == 404)
        }
    }
}
