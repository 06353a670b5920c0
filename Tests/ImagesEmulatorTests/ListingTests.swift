import Testing

@testable import ImagesEmulator

@Suite("Listing")
struct ListingTests {
    private func ids(_ response: HTTPTestClient.Response) -> [String] {
        guard case .array(let images) = response.result?["images"] ?? .null else { return [] }
        return images.compactMap { $0["id"]?.stringValue }
    }

    @Test("list v2 pages with a continuation token, newest first by default")
    func continuation() throws {
        try withEmulator { server throws in
            for index in 0..<25 {
                #expect(try server.upload(fields: [("id", "img-\(index)")]).status == 200)
            }
            let v2 = "/client/v4/accounts/\(testAccount)/images/v2"
            let first = try server.send("GET", v2 + "?per_page=10")
            #expect(ids(first) == (15..<25).reversed().map { "img-\($0)" })
            let token = try #require(first.result?["continuation_token"]?.stringValue)
            #expect(token.count <= 32)
            let second = try server.send("GET", v2 + "?per_page=10&continuation_token=\(token)")
            #expect(ids(second) == (5..<15).reversed().map { "img-\($0)" })
            let secondToken = try #require(second.result?["continuation_token"]?.stringValue)
            let third = try server.send("GET", v2 + "?per_page=10&continuation_token=\(secondToken)")
            #expect(ids(third) == (0..<5).reversed().map { "img-\($0)" })
            #expect(third.result?["continuation_token"] == .null)

            let ascending = try server.send("GET", v2 + "?per_page=10&sort_order=asc")
            #expect(ids(ascending).first == "img-0")
            #expect(try server.send("GET", v2 + "?per_page=5").errorCode == 5400)
        }
    }

    @Test("metadata filters select images and are limited to five")
    func metadataFilters() throws {
        try withEmulator { server throws in
            _ = try server.upload(fields: [("id", "a"), ("metadata", #"{"status":"active","n":5,"r":{"name":"eu"}}"#)])
            _ = try server.upload(fields: [("id", "b"), ("metadata", #"{"status":"pending","n":2}"#)])
            _ = try server.upload(fields: [("id", "c"), ("creator", "u1")])
            let v2 = "/client/v4/accounts/\(testAccount)/images/v2"
            #expect(ids(try server.send("GET", v2 + "?meta.status%5Beq%5D=active")) == ["a"])
            #expect(ids(try server.send("GET", v2 + "?meta.status[eq:string]=pending")) == ["b"])
            #expect(ids(try server.send("GET", v2 + "?meta.n[gte:number]=3")) == ["a"])
            #expect(ids(try server.send("GET", v2 + "?meta.status[in]=pending%7Cactive&sort_order=asc")) == ["a", "b"])
            #expect(ids(try server.send("GET", v2 + "?meta.r.name[eq]=eu")) == ["a"])
            #expect(ids(try server.send("GET", v2 + "?creator=u1")) == ["c"])
            #expect(ids(try server.send("GET", v2 + "?creator=&sort_order=asc")) == ["a", "b"])

            let badOperator = try server.send("GET", v2 + "?meta.status[not-eq]=x")
            #expect(badOperator.status == 400)
            #expect(
                badOperator.json["errors"]
                    == .array([
                        .object([
                            ("code", .number("5400")),
                            ("message", .string("Unsupported metadata filter operator: 'not-eq'")),
                        ])
                    ]))
            let six = (1...6).map { "meta.k\($0)[eq]=v" }.joined(separator: "&")
            let tooMany = try server.send("GET", v2 + "?" + six)
            #expect(tooMany.errorCode == 5400)
            #expect(tooMany.text.contains("Too many metadata filters: 6 provided, maximum 5 allowed"))
        }
    }

    @Test("the deprecated v1 list pages by number")
    func listV1() throws {
        try withEmulator { server throws in
            for index in 0..<12 { _ = try server.upload(fields: [("id", "p\(index)")]) }
            let page2 = try server.send("GET", server.imagesPath + "?page=2&per_page=10")
            #expect(ids(page2) == ["p1", "p0"])
        }
    }
}
