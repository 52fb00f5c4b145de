import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("Who may use the console and @connections; what --record keeps")
struct LocalAccessTests {
    let policy = LocalAccessPolicy(bindHost: "0.0.0.0", allowedHosts: ["DevBox.test", "::2"])

    @Test("the stage's own host names with its port are served; anything else is a foreign host", arguments: [
        ("127.0.0.1:3001", LocalAccessPolicy.Verdict.allowed),
        ("localhost:3001", .allowed),
        ("LOCALHOST:3001", .allowed),
        ("[::1]:3001", .allowed),
        ("0.0.0.0:3001", .allowed),
        ("devbox.test:3001", .allowed),
        ("[::2]:3001", .allowed),
        ("127.0.0.1", .foreignHost),
        ("127.0.0.1:3002", .foreignHost),
        ("attacker.example:3001", .foreignHost),
        ("localhost.attacker.example:3001", .foreignHost),
        ("[::1]", .foreignHost),
        ("", .foreignHost),
    ])
    func hosts(authority: String, verdict: LocalAccessPolicy.Verdict) {
        #expect(policy.verdict(authority: authority, origin: nil, fetchSite: nil, port: 3001) == verdict)
    }

    @Test("a missing Host is refused; a bare name only on port 80")
    func bareHost() {
        #expect(policy.verdict(authority: nil, origin: nil, fetchSite: nil, port: 3001) == .foreignHost)
        #expect(policy.verdict(authority: "localhost", origin: nil, fetchSite: nil, port: 80) == .allowed)
    }

    @Test("browsers' cross-site markers are refused unless the route allows them", arguments: [
        ("http://localhost:3001", nil as String?, LocalAccessPolicy.Verdict.allowed),
        ("http://LOCALHOST:3001", "same-origin", .allowed),
        (nil, "none", .allowed),
        ("http://localhost:5173", nil, .crossSite),
        ("http://127.0.0.1:3001", nil, .crossSite),
        ("null", nil, .crossSite),
        (nil, "same-site", .crossSite),
        (nil, "cross-site", .crossSite),
    ] as [(String?, String?, LocalAccessPolicy.Verdict)])
    func crossSite(origin: String?, fetchSite: String?, verdict: LocalAccessPolicy.Verdict) {
        #expect(policy.verdict(authority: "localhost:3001", origin: origin, fetchSite: fetchSite, port: 3001) == verdict)
        #expect(policy.verdict(authority: "localhost:3001", origin: origin, fetchSite: fetchSite, port: 3001, allowCrossSite: true) == .allowed)
    }

    @Test("recorded events keep their shape with credentials' values redacted")
    func redaction() throws {
        let event = #"""
            {"version":"2.0","rawQueryString":"widget_id=w&token=secret-token&x=1","cookies":["session=secret-cookie","bare"],
             "headers":{"Authorization":"Bearer secret-bearer","x-api-key":"secret-key","origin":"http://localhost:5173"},
             "multiValueHeaders":{"Cookie":["a=secret-a","b=secret-b"]},
             "queryStringParameters":{"token":"secret-token","widget_id":"w"},"body":"{\"message\":\"hi\"}","requestContext":{"timeEpoch":1733467200123}}
            """#
        let redacted = EventRecorder.redactingCredentials(Array(event.utf8))
        let text = String(decoding: redacted, as: UTF8.self)
        #expect(!text.contains("secret"))
        let value = try JSONValue(parsing: redacted)
        #expect(value["headers"]?["Authorization"] == .string("REDACTED"))
        #expect(value["headers"]?["origin"] == .string("http://localhost:5173"))
        #expect(value["multiValueHeaders"]?["Cookie"] == .array([.string("REDACTED"), .string("REDACTED")]))
        #expect(value["queryStringParameters"]?["widget_id"] == .string("w"))
        #expect(value["rawQueryString"] == .string("widget_id=w&token=REDACTED&x=1"))
        #expect(value["cookies"] == .array([.string("session=REDACTED"), .string("REDACTED")]))
        #expect(value["body"] == .string(#"{"message":"hi"}"#))
        #expect(value["requestContext"]?["timeEpoch"]?.intValue == 1_733_467_200_123)
        #expect(EventRecorder.redactingCredentials(Array("not json".utf8)) == Array("not json".utf8))
    }

    @Test("a connection's invocation slots never exceed their limit")
    func slots() {
        let slots = InvocationSlots(limit: 3)
        #expect((0..<5).map { _ in slots.acquire() } == [true, true, true, false, false])
        slots.release()
        #expect(slots.acquire())
        #expect(!slots.acquire())
    }
}
