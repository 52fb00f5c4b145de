import Foundation
@testable import Handlers
import Testing

@Suite("Admin API: authentication, authorisation and CORS")
struct AdminAuthenticationTests {
    func expectUnauthorized(_ answer: Harness.AdminAnswer, mentioning words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.status == 401, sourceLocation: sourceLocation)
        #expect(answer.error == "unauthorized", sourceLocation: sourceLocation)
        #expect(answer.message.contains(words), "\(answer.message)", sourceLocation: sourceLocation)
        #expect(answer.headers["www-authenticate"]?.hasPrefix("Bearer") == true, sourceLocation: sourceLocation)
    }

    @Test("base64url is decoded as Foundation decodes it once translated to padded base64, for random texts of every length, and only when spelled canonically")
    func base64URLAgreesWithFoundation() {
        // Foundation ignores the unused low bits of a last group; a JWT segment has one spelling only
        // (RFC 7515 §2, RFC 4648 §3.5), so a text that does not encode back to itself is refused.
        func reference(_ text: Substring) -> Data? {
            guard text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") }) else { return nil }
            var base64 = String(text).replacing("-", with: "+").replacing("_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            guard let data = Data(base64Encoded: base64), RawJWT.base64url(data) == text else { return nil }
            return data
        }
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let strays: [Character] = ["+", "/", "=", " ", ".", "\n", "é", "\u{0}"]
        var canonical = 0
        for length in 0..<40 {
            for round in 0..<200 {
                var characters = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
                if round % 4 == 0, length > 0 { characters[Int.random(in: 0..<length, using: &random)] = strays.randomElement(using: &random)! }
                let text = Substring(String(characters))
                let decoded = Base64.decodeURL(text)
                if decoded != nil { canonical += 1 }
                #expect(decoded == reference(text), "\(text.debugDescription)")
            }
        }
        #expect(canonical > 1_000, "too few random texts were canonical to compare the decoded bytes")
    }

    @Test("a token is cut at its dots, as splitting its Characters cuts it", arguments: [
        "a.b.c", "..", "abc", "a.b.c.d", ".a.", "é.b.c", "a.\u{301}b.c", "a\u{301}.b.c",
    ])
    func tokenSegments(token: String) {
        #expect(AdminToken.segments(of: token) == token.split(separator: ".", omittingEmptySubsequences: false))
    }

    @Test("a request without a token is 401")
    func missing() async throws {
        let harness = try await Harness.admin()
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: .some(nil)), mentioning: "Authorization: Bearer")
    }

    @Test("a malformed token or header is 401", arguments: ["Bearer abc.def", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer"])
    func malformed(_ header: String) async throws {
        let harness = try await Harness.admin()
        let answer = try await harness.admin("GET", "widgets", authorization: .some(header))
        #expect(answer.status == 401)
        #expect(answer.error == "unauthorized")
    }

    @Test("a token signed with another secret is 401")
    func wrongSecret() async throws {
        let harness = try await Harness.admin()
        let exp = Int(harness.clock.now().timeIntervalSince1970) + 600
        let token = RawJWT.make(claims: #"{"scope":"admin","exp":\#(exp)}"#, secret: "another-secret")
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)")), mentioning: "signature")
    }

    @Test("an expired token is 401, beyond 30 seconds of clock skew")
    func expired() async throws {
        let harness = try await Harness.admin()
        let token = harness.token(lifetime: 60)
        harness.clock.advance(60 + 20)
        #expect(try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)")).status == 200)
        harness.clock.advance(20)
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)")), mentioning: "expired")
    }

    @Test("a token without exp is 401")
    func noExpiry() async throws {
        let harness = try await Harness.admin()
        let token = RawJWT.make(claims: #"{"scope":"admin"}"#, secret: Harness.adminSecret)
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)")), mentioning: "exp")
    }

    @Test("alg none and algorithms other than HS256 are 401, even when the MAC would verify", arguments: ["none", "HS512", "RS256"])
    func algorithms(_ alg: String) async throws {
        let harness = try await Harness.admin()
        let exp = Int(harness.clock.now().timeIntervalSince1970) + 600
        let token = RawJWT.make(header: #"{"alg":"\#(alg)","typ":"JWT"}"#, claims: #"{"scope":"admin","exp":\#(exp)}"#, secret: Harness.adminSecret)
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)")), mentioning: "HS256")
    }

    @Test("without ADMIN_JWT_SECRET every request is 401 and says why")
    func notConfigured() async throws {
        let harness = try await Harness.admin(environment: ["ADMIN_JWT_SECRET": ""])
        expectUnauthorized(try await harness.admin("GET", "widgets"), mentioning: "ADMIN_JWT_SECRET")
    }

    func bearer(_ token: String) -> String?? { .some("Bearer \(token)") }

    @Test("a segment whose last character carries non-zero unused bits is 401: base64url has one spelling (header, payload, signature)")
    func nonCanonicalBase64URL() async throws {
        let harness = try await Harness.admin()
        let token = harness.token()
        let parts = token.split(separator: ".").map(String.init)
        #expect(try await harness.admin("GET", "widgets", authorization: bearer(token)).status == 200)
        for flip in 1...3 {
            let signature = try #require(RawJWT.flippingUnusedBits(of: parts[2], by: flip))
            expectUnauthorized(try await harness.admin("GET", "widgets", authorization: bearer("\(parts[0]).\(parts[1]).\(signature)")),
                               mentioning: "base64url")
        }
        // A header and a payload of 40 and 65 bytes end in groups of two and three characters: re-signed once
        // respelled, so that only the spelling is wrong.
        let exp = Int(harness.clock.now().timeIntervalSince1970) + 600
        let header = RawJWT.base64url(Data(#"{"alg":"HS256","typ":"JWT","kid":"k-01"}"#.utf8))
        let payload = RawJWT.base64url(Data(#"{"sub":"tester","scope":"admin","exp":\#(exp),"jti":"abcd-01"}"#.utf8))
        #expect(header.count % 4 != 0 && payload.count % 4 != 0)
        #expect(try await harness.admin("GET", "widgets", authorization: bearer(RawJWT.signed(header, payload, secret: Harness.adminSecret))).status == 200)
        let respelledHeader = try #require(RawJWT.flippingUnusedBits(of: header, by: 1))
        let respelledPayload = try #require(RawJWT.flippingUnusedBits(of: payload, by: 1))
        for (h, p) in [(respelledHeader, payload), (header, respelledPayload)] {
            expectUnauthorized(try await harness.admin("GET", "widgets", authorization: bearer(RawJWT.signed(h, p, secret: Harness.adminSecret))),
                               mentioning: "base64url")
        }
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: bearer(token + "=")), mentioning: "base64url")
    }

    @Test("nbf and iat, when present, must be numbers: 401 otherwise", arguments: ["nbf", "iat"], [#""soon""#, #""1764000000""#, "null", "true", "[1764000000]", "{}"])
    func nonNumericTimes(claim: String, value: String) async throws {
        let harness = try await Harness.admin()
        let exp = Int(harness.clock.now().timeIntervalSince1970) + 600
        let token = RawJWT.make(claims: #"{"scope":"admin","exp":\#(exp),"\#(claim)":\#(value)}"#, secret: Harness.adminSecret)
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: bearer(token)), mentioning: claim)
    }

    @Test("a token issued in the future is 401 beyond 30 seconds of clock skew")
    func issuedInTheFuture() async throws {
        let harness = try await Harness.admin()
        let now = Int(harness.clock.now().timeIntervalSince1970)
        let skewed = RawJWT.make(claims: #"{"scope":"admin","iat":\#(now + 20),"exp":\#(now + 600)}"#, secret: Harness.adminSecret)
        #expect(try await harness.admin("GET", "widgets", authorization: bearer(skewed)).status == 200)
        let future = RawJWT.make(claims: #"{"scope":"admin","iat":\#(now + 3600),"exp":\#(now + 7200)}"#, secret: Harness.adminSecret)
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: bearer(future)), mentioning: "iat")
    }

    @Test("a token that lives longer than 24 hours is 401, counted from iat or else from now; exp: 1e300 too")
    func maximumLifetime() async throws {
        let harness = try await Harness.admin()
        let now = Int(harness.clock.now().timeIntervalSince1970)
        func answer(_ claims: String) async throws -> Harness.AdminAnswer {
            try await harness.admin("GET", "widgets", authorization: bearer(RawJWT.make(claims: claims, secret: Harness.adminSecret)))
        }
        #expect(try await answer(#"{"scope":"admin","iat":\#(now),"exp":\#(now + 86_400)}"#).status == 200)
        #expect(try await answer(#"{"scope":"admin","exp":\#(now + 86_400)}"#).status == 200)
        #expect(try await answer(#"{"scope":"admin","iat":\#(now - 3600),"exp":\#(now + 60)}"#).status == 200)
        expectUnauthorized(try await answer(#"{"scope":"admin","iat":\#(now),"exp":\#(now + 86_401)}"#), mentioning: "lifetime")
        expectUnauthorized(try await answer(#"{"scope":"admin","exp":\#(now + 86_401)}"#), mentioning: "lifetime")
        expectUnauthorized(try await answer(#"{"scope":"admin","iat":\#(now - 86_400),"exp":\#(now + 60)}"#), mentioning: "lifetime")
        expectUnauthorized(try await answer(#"{"scope":"admin","exp":1e300}"#), mentioning: "exp")
        expectUnauthorized(try await answer(#"{"scope":"admin","iat":\#(now),"exp":1e300}"#), mentioning: "exp")
    }

    @Test("ADMIN_TOKEN_MAX_LIFETIME_SECONDS sets the maximum lifetime")
    func configuredLifetime() async throws {
        let harness = try await Harness.admin(environment: ["ADMIN_TOKEN_MAX_LIFETIME_SECONDS": "900"])
        #expect(try await harness.admin("GET", "widgets", authorization: bearer(harness.token(lifetime: 900))).status == 200)
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: bearer(harness.token(lifetime: 901))), mentioning: "lifetime")
    }

    @Test("with ADMIN_JWT_ISSUER and ADMIN_JWT_AUDIENCE set, iss must equal it and aud name it (a string or an array)")
    func issuerAndAudience() async throws {
        let harness = try await Harness.admin(environment: ["ADMIN_JWT_ISSUER": "https://idp.example", "ADMIN_JWT_AUDIENCE": "chat-admin"])
        let exp = Int(harness.clock.now().timeIntervalSince1970) + 600
        func status(_ extra: String) async throws -> Int {
            let token = RawJWT.make(claims: #"{"scope":"admin","exp":\#(exp)\#(extra)}"#, secret: Harness.adminSecret)
            return try await harness.admin("GET", "widgets", authorization: bearer(token)).status
        }
        #expect(try await status(#","iss":"https://idp.example","aud":"chat-admin""#) == 200)
        #expect(try await status(#","iss":"https://idp.example","aud":["other","chat-admin"]"#) == 200)
        for refused in [#","aud":"chat-admin""#, #","iss":"https://evil.example","aud":"chat-admin""#, #","iss":"https://idp.example""#,
                        #","iss":"https://idp.example","aud":"other""#, #","iss":"https://idp.example","aud":["other"]"#,
                        #","iss":"https://idp.example","aud":[]"#, #","iss":"https://idp.example","aud":5"#, #","iss":5,"aud":"chat-admin""#] {
            #expect(try await status(refused) == 401, "\(refused)")
        }
        let unconfigured = try await Harness.admin()
        let token = RawJWT.make(claims: #"{"scope":"admin","exp":\#(exp),"iss":"anyone","aud":"anything"}"#, secret: Harness.adminSecret)
        #expect(try await unconfigured.admin("GET", "widgets", authorization: bearer(token)).status == 200, "without configuration iss and aud are not checked")
    }

    @Test("a secret shorter than 32 bytes disables the admin API, as a missing one does: every request is 401 and says why")
    func shortSecret() async throws {
        let secret = String(repeating: "s", count: 31)
        let harness = try await Harness.admin(environment: ["ADMIN_JWT_SECRET": secret])
        let token = AdminToken.sign(subject: "tester", access: .write, issuedAt: harness.clock.now(), lifetime: 600, secret: secret)
        expectUnauthorized(try await harness.admin("GET", "widgets", authorization: bearer(token)), mentioning: "32 bytes")
        let enough = try await Harness.admin(environment: ["ADMIN_JWT_SECRET": secret + "s"])
        let accepted = AdminToken.sign(subject: "tester", access: .write, issuedAt: enough.clock.now(), lifetime: 600, secret: secret + "s")
        #expect(try await enough.admin("GET", "widgets", authorization: bearer(accepted)).status == 200)
    }

    @Test("an admin:read token reads but may not change anything: 403")
    func readOnly() async throws {
        let harness = try await Harness.admin()
        let bearer = "Bearer \(harness.token(.read))"
        #expect(try await harness.admin("GET", "widgets", authorization: .some(bearer)).status == 200)
        #expect(try await harness.admin("GET", "analytics/usage", authorization: .some(bearer)).status == 200)
        let create = try await harness.admin("POST", "widgets", body: #"{"name":"x","allowed_domains":["x.example"]}"#, authorization: .some(bearer))
        #expect(create.status == 403)
        #expect(create.error == "forbidden")
        #expect(try await harness.admin("POST", "retention/purge", authorization: .some(bearer)).status == 403)
        #expect(try await harness.admin("DELETE", "widgets/\(DemoWidget.id)", authorization: .some(bearer)).status == 403)
        #expect(try await harness.store.widget(id: DemoWidget.id)?.isActive == true)
    }

    @Test("a verified token without an admin scope is 403, not 401")
    func noScope() async throws {
        let harness = try await Harness.admin()
        let exp = Int(harness.clock.now().timeIntervalSince1970) + 600
        let token = RawJWT.make(claims: #"{"sub":"someone","scope":"profile","exp":\#(exp)}"#, secret: Harness.adminSecret)
        let answer = try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)"))
        #expect(answer.status == 403)
        #expect(answer.error == "forbidden")
    }

    @Test("the admin origin gets CORS headers and preflights; any other origin gets neither")
    func cors() async throws {
        let harness = try await Harness.admin()
        let preflight = try await harness.admin("OPTIONS", "widgets", authorization: .some(nil), origin: Harness.adminOrigin)
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == Harness.adminOrigin)
        #expect(preflight.headers["access-control-allow-headers"]?.contains("Authorization") == true)
        let read = try await harness.admin("GET", "widgets", origin: Harness.adminOrigin)
        #expect(read.headers["access-control-allow-origin"] == Harness.adminOrigin)
        let denied = try await harness.admin("GET", "widgets", authorization: .some(nil), origin: Harness.adminOrigin)
        #expect(denied.status == 401)
        #expect(denied.headers["access-control-allow-origin"] == Harness.adminOrigin, "a browser must be able to read the 401")

        let foreignPreflight = try await harness.admin("OPTIONS", "widgets", authorization: .some(nil), origin: "https://evil.example")
        #expect(foreignPreflight.status == 403)
        #expect(foreignPreflight.error == "origin_not_allowed")
        #expect(foreignPreflight.headers["access-control-allow-origin"] == nil)
        #expect(try await harness.admin("GET", "widgets", origin: "https://evil.example").headers["access-control-allow-origin"] == nil)
    }
}
