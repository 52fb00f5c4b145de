import Foundation
import Handlers
import Testing

@Suite("Admin API: authentication, authorisation and CORS")
struct AdminAuthenticationTests {
    func expectUnauthorized(_ answer: Harness.AdminAnswer, mentioning words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.status == 401, sourceLocation: sourceLocation)
        #expect(answer.error == "unauthorized", sourceLocation: sourceLocation)
        #expect(answer.message.contains(words), "\(answer.message)", sourceLocation: sourceLocation)
        #expect(answer.headers["www-authenticate"]?.hasPrefix("Bearer") == true, sourceLocation: sourceLocation)
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
