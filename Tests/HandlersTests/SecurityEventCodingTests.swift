import Foundation
@testable import Handlers
import Testing

/// Security events are written and read by hand instead of through `Codable` (stores keep one per
/// refused request, admin listings return up to a thousand): the same JSON either way.
@Suite("Security event coding")
struct SecurityEventCodingTests {
    static let events = [
        SecurityEvent(id: "1764000009800-rate_limit-a", type: .rateLimit, widgetId: "widget_demo_localhost",
                      origin: "https://shop.example/path?q=\"x\"", domain: "shop.example", sourceIp: "198.51.100.8",
                      userAgent: "Mozilla/5.0 (X11; Linux) — ünïcode", details: ["limit_type": "minute", "retry_after": "30"],
                      createdAt: Date(timeIntervalSince1970: 1_764_000_009.8)),
        SecurityEvent(id: "e2", type: .blocked, widgetId: nil, origin: nil, domain: nil, sourceIp: "203.0.113.1", userAgent: nil,
                      details: [:], createdAt: Date(timeIntervalSince1970: 1_763_596_920)),
    ]

    @Test("a stored event reads back equal, by hand and by JSONDecoder, as does one JSONEncoder stored")
    func storedFormRoundTrips() throws {
        for event in Self.events {
            let written = StoreCoding.json(event)
            #expect(try StoreCoding.securityEvent(json: written.utf8) == event)
            #expect(try StoreCoding.decoder.decode(SecurityEvent.self, from: Data(written.utf8)) == event)
            #expect(try StoreCoding.securityEvent(json: try StoreCoding.encoder.encode(event)) == event)
        }
    }

    @Test("a stored event missing a required field or with an unknown type is refused")
    func malformedStoredEventRefused() {
        for text in [#"{"id":"e","type":"blocked","ip":"1.2.3.4","details":{}}"#,
                     #"{"id":"e","type":"unheard_of","ip":"1.2.3.4","details":{},"timestamp":0}"#] {
            #expect(throws: JSONValueDecodingError.self) { try StoreCoding.securityEvent(json: text.utf8) }
        }
    }

    @Test("the admin security events body is written by hand as JSONEncoder writes it")
    func adminListingEncodesLikeJSONEncoder() {
        let listing = AdminReports.Events(events: Self.events, total: 2, hours: 24)
        #expect(AdminFunction.json(200, listing).body == JSONCoding.string(AdminBody(payload: listing)))
    }
}
