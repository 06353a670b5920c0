import Testing

@testable import ImagesEmulator

@Suite("Authentication and routing")
struct AuthTests {
    @Test("missing credentials answer 400 with 9106")
    func missingCredentials() throws {
        try withEmulator { server throws in
            let response = try server.send("GET", server.imagesPath + "/stats", headers: [])
            #expect(response.status == 400)
            #expect(response.errorCode == 9106)
        }
    }

    @Test(
        "a malformed Authorization header answers 400 with 6003 and the 6111 chain",
        arguments: [
            "Bearer", "Basic abc", "Bearer two words", "Bearer bad,char", "token-without-scheme",
        ])
    func malformedAuthorization(header: String) throws {
        try withEmulator { server throws in
            let response = try server.send("GET", server.imagesPath + "/stats", headers: [("Authorization", header)])
            #expect(response.status == 400)
            #expect(response.errorCode == 6003)
            guard case .array(let errors) = response.json["errors"] ?? .null,
                case .array(let chain) = errors.first?["error_chain"] ?? .null
            else {
                Issue.record("no error_chain in \(response.text)")
                return
            }
            #expect(chain.first?["code"] == .number("6111"))
        }
    }

    @Test("an unknown but well-formed token answers 401 with 10000 when tokens are configured")
    func unknownToken() throws {
        try withEmulator({ $0.tokens = [testToken] }) { server throws in
            let refused = try server.send(
                "GET", server.imagesPath + "/stats", headers: [("Authorization", "Bearer other")])
            #expect(refused.status == 401)
            #expect(refused.errorCode == 10000)
            #expect(try server.send("GET", server.imagesPath + "/stats").status == 200)
        }
    }

    @Test("checks run in order: presence, shape, token, account")
    func order() throws {
        try withEmulator({
            $0.tokens = [testToken]
            $0.accountID = testAccount
        }) { server throws in
            let otherAccount = "/client/v4/accounts/\(String(repeating: "0", count: 32))/images/v1/stats"
            #expect(try server.send("GET", otherAccount, headers: []).errorCode == 9106)
            #expect(try server.send("GET", otherAccount, headers: [("Authorization", "Basic x")]).errorCode == 6003)
            #expect(
                try server.send("GET", otherAccount, headers: [("Authorization", "Bearer nope")]).errorCode == 10000)
            let wrongAccount = try server.send("GET", otherAccount)
            #expect(wrongAccount.status == 403)
            #expect(wrongAccount.errorCode == 9109)
        }
    }

    @Test("an account id that is not 32 hex digits cannot be routed (7003, 7000)")
    func malformedAccount() throws {
        try withEmulator { server throws in
            let response = try server.send("GET", "/client/v4/accounts/not-an-account/images/v1/stats")
            #expect(response.status == 400)
            guard case .array(let errors) = response.json["errors"] ?? .null else {
                Issue.record("no errors array in the reply: \(response.json)")
                return
            }
            #expect(errors.compactMap { $0["code"]?.doubleValue } == [7003, 7000])
        }
    }

    @Test("unknown routes answer 404 with 7003")
    func unknownRoute() throws {
        try withEmulator { server throws in
            let response = try server.send("GET", "/client/v4/zones")
            #expect(response.status == 404)
            #expect(response.errorCode == 7003)
            #expect(try server.send("PUT", server.imagesPath).status == 404)
        }
    }

    @Test("global API key credentials are accepted when well-formed")
    func globalKey() throws {
        try withEmulator { server throws in
            let key = String(repeating: "a", count: 37)
            let ok = try server.send(
                "GET", server.imagesPath + "/stats", headers: [("X-Auth-Email", "a@b.c"), ("X-Auth-Key", key)])
            #expect(ok.status == 200)
            let bad = try server.send(
                "GET", server.imagesPath + "/stats", headers: [("X-Auth-Email", "a@b.c"), ("X-Auth-Key", "short")])
            #expect(bad.errorCode == 6003)
        }
    }

    @Test("with --api-key only that email and key are accepted: 9103 for a wrong one, 6003/6102 for a malformed email")
    func configuredGlobalKey() throws {
        let key = String(repeating: "b", count: 37)
        try withEmulator({ $0.apiKeys = ["ops@example.com": key] }) { server throws in
            let path = server.imagesPath + "/stats"
            #expect(
                try server.send("GET", path, headers: [("X-Auth-Email", "ops@example.com"), ("X-Auth-Key", key)]).status
                    == 200)
            let wrongKey = try server.send(
                "GET", path,
                headers: [
                    ("X-Auth-Email", "ops@example.com"),
                    ("X-Auth-Key", String(repeating: "c", count: 37)),
                ])
            #expect(wrongKey.status == 403)
            #expect(wrongKey.errorCode == 9103)
            let wrongEmail = try server.send(
                "GET", path, headers: [("X-Auth-Email", "dev@example.com"), ("X-Auth-Key", key)])
            #expect(wrongEmail.errorCode == 9103)
            let malformedEmail = try server.send(
                "GET", path, headers: [("X-Auth-Email", "no-at-sign"), ("X-Auth-Key", key)])
            #expect(malformedEmail.status == 400)
            #expect(malformedEmail.errorCode == 6003)
            // A configured key does not open the door to any well-formed bearer token.
            #expect(try server.send("GET", path, headers: [("Authorization", "Bearer some-token")]).errorCode == 10000)
        }
    }

    @Test("token verification reports an active token, and 1000 for an unknown one")
    func verify() throws {
        try withEmulator({ $0.tokens = [testToken] }) { server throws in
            let ok = try server.send("GET", "/client/v4/user/tokens/verify")
            #expect(ok.status == 200)
            #expect(ok.result?["status"] == .string("active"))
            let account = try server.send("GET", "/client/v4/accounts/\(testAccount)/tokens/verify")
            #expect(account.status == 200)
            let bad = try server.send("GET", "/client/v4/user/tokens/verify", headers: [("Authorization", "Bearer x")])
            #expect(bad.status == 401)
            #expect(bad.errorCode == 1000)
        }
    }

    @Test("an account-owned token: 401/1000 at /user/tokens/verify, active at the account's route, accepted on images")
    func accountOwnedToken() throws {
        let accountToken = "account-token-0123456789abcdefghijklmn"
        try withEmulator({
            $0.tokens = [testToken]
            $0.accountTokens = [accountToken]
        }) { server throws in
            let bearer = [("Authorization", "Bearer \(accountToken)")]
            let user = try server.send("GET", "/client/v4/user/tokens/verify", headers: bearer)
            #expect(user.status == 401)
            #expect(user.errorCode == 1000)
            let account = try server.send("GET", "/client/v4/accounts/\(testAccount)/tokens/verify", headers: bearer)
            #expect(account.status == 200)
            #expect(account.result?["status"] == .string("active"))
            #expect(try server.send("GET", server.imagesPath + "/stats", headers: bearer).status == 200)
            #expect(try server.upload(token: accountToken).status == 200)
            // The user's token keeps its route; an unknown token is refused at both.
            #expect(try server.send("GET", "/client/v4/user/tokens/verify").status == 200)
            let unknown = [("Authorization", "Bearer not-a-known-token")]
            #expect(
                try server.send("GET", "/client/v4/accounts/\(testAccount)/tokens/verify", headers: unknown).errorCode
                    == 1000)
            #expect(try server.send("GET", server.imagesPath + "/stats", headers: unknown).errorCode == 10000)
        }
        // Account tokens alone restrict the emulator too: no other well-formed token gets in.
        try withEmulator({ $0.accountTokens = [accountToken] }) { server throws in
            #expect(try server.send("GET", server.imagesPath + "/stats").errorCode == 10000)
            #expect(
                try server.send(
                    "GET", server.imagesPath + "/stats", headers: [("Authorization", "Bearer \(accountToken)")]
                ).status == 200)
        }
    }
}
