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

    @Test("base64url is decoded as Foundation decodes it once translated to padded base64, for random texts of every length")
    func base64URLAgreesWithFoundation() {
        func reference(_ text: Substring) -> Data? {
            guard text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") }) else { return nil }
            var base64 = String(text).replacing("-", with: "+").replacing("_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            return Data(base64Encoded: base64)
        }
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let strays: [Character] = ["+", "/", "=", " ", ".", "\n", "é", "\u{0}"]
        for length in 0..<40 {
            for round in 0..<200 {
                var characters = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
                if round % 4 == 0, length > 0 { characters[Int.random(in: 0..<length, using: &random)] = strays.randomElement(using: &random)! }
                let text = Substring(String(characters))
                #expect(Base64URL.decode(text) == reference(text), "\(text.debugDescription)")
            }
        }
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
