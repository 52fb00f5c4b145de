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

    @Test("the admin security events body is written member by member as its tree is")
    func adminListingIsWrittenAsItsTree() {
        let listing = AdminReports.Events(events: Self.events, total: 2, hours: 24)
        let expected = #"{"events":[{"count":1,"details":{"limit_type":"minute","retry_after":"30"},"domain":"shop.example","id":"1764000009800-rate_limit-a","ip":"198.51.100.8","last_seen":"2025-11-24T16:00:09Z","origin":"https://shop.example/path?q=\"x\"","sample_origins":["https://shop.example/path?q=\"x\""],"sample_widget_ids":["widget_demo_localhost"],"timestamp":"2025-11-24T16:00:09Z","type":"rate_limit","user_agent":"Mozilla/5.0 (X11; Linux) — ünïcode","widget_id":"widget_demo_localhost"},{"count":1,"details":{},"id":"e2","ip":"203.0.113.1","last_seen":"2025-11-20T00:02:00Z","sample_origins":[],"sample_widget_ids":[],"timestamp":"2025-11-20T00:02:00Z","type":"blocked"}],"hours":24,"success":true,"total":2}"#
        #expect(AdminFunction.json(200, listing).body == expected)
        #expect(listing.body == expected)
        #expect(AdminReports.Events(events: [], total: 0, hours: 1).body == #"{"events":[],"hours":1,"success":true,"total":0}"#)
    }

    /// The bodies JSONEncoder wrote for these reports before they were written by hand: keys sorted,
    /// nil fields left out, times in ISO 8601 without fractions, `/` and non-ASCII unescaped.
    @Test("the admin reports' and failures' bodies are the ones the admin API has always answered")
    func adminBodiesKeepTheirBytes() throws {
        let day = Date(timeIntervalSince1970: 1_764_000_000)
        let usage = AdminReports.Usage(period: "7d", from: "2025-11-18", to: "2025-11-24", widgetId: nil, data: AdminReports.Totals(
            totalMessages: 3, uniqueDomains: 1, blockedRequests: 2, activeWidgets: 1,
            dailyBreakdown: [AdminReports.Day(date: "2025-11-24", messages: 3, blocked: 2)],
            topDomains: [AdminReports.Domain(domain: "shop.example", messages: 3, blocked: 2)]))
        var filtered = usage
        filtered.widgetId = "widget_replay_shop_01"
        let export = AdminReports.Export(
            domain: "shop.example", exportedAt: day,
            conversations: [AdminReports.Conversation(widgetId: "w", conversationId: "c/1", messages: [
                AdminReports.Message(role: .user, content: "say \"hi\" — ü", sourceIp: "198.51.100.7", createdAt: day),
                AdminReports.Message(role: .assistant, content: "hi\n", sourceIp: nil, createdAt: day.addingTimeInterval(0.25))])],
            securityEvents: Self.events, securityEventsTruncated: false,
            usage: [DailyUsage(day: "2025-11-24", widgetId: "w", domain: "shop.example", messages: 1, blocked: 0)])
        let purge = AdminReports.Purge(cutoff: day, purged: PurgeResult(messages: 4, securityEvents: 5, usageBuckets: 6))
        #expect(AdminFunction.json(200, usage).body == #"{"data":{"active_widgets":1,"blocked_requests":2,"daily_breakdown":[{"blocked":2,"date":"2025-11-24","messages":3}],"top_domains":[{"blocked":2,"domain":"shop.example","messages":3}],"total_messages":3,"unique_domains":1},"from":"2025-11-18","period":"7d","success":true,"to":"2025-11-24"}"#)
        #expect(AdminFunction.json(200, filtered).body == #"{"data":{"active_widgets":1,"blocked_requests":2,"daily_breakdown":[{"blocked":2,"date":"2025-11-24","messages":3}],"top_domains":[{"blocked":2,"domain":"shop.example","messages":3}],"total_messages":3,"unique_domains":1},"from":"2025-11-18","period":"7d","success":true,"to":"2025-11-24","widget_id":"widget_replay_shop_01"}"#)
        #expect(AdminFunction.json(200, export).body == #"{"conversations":[{"conversation_id":"c/1","messages":[{"content":"say \"hi\" — ü","created_at":"2025-11-24T16:00:00Z","role":"user","source_ip":"198.51.100.7"},{"content":"hi\n","created_at":"2025-11-24T16:00:00Z","role":"assistant"}],"widget_id":"w"}],"domain":"shop.example","exported_at":"2025-11-24T16:00:00Z","security_events":[{"count":1,"details":{"limit_type":"minute","retry_after":"30"},"domain":"shop.example","id":"1764000009800-rate_limit-a","ip":"198.51.100.8","last_seen":"2025-11-24T16:00:09Z","origin":"https://shop.example/path?q=\"x\"","sample_origins":["https://shop.example/path?q=\"x\""],"sample_widget_ids":["widget_demo_localhost"],"timestamp":"2025-11-24T16:00:09Z","type":"rate_limit","user_agent":"Mozilla/5.0 (X11; Linux) — ünïcode","widget_id":"widget_demo_localhost"},{"count":1,"details":{},"id":"e2","ip":"203.0.113.1","last_seen":"2025-11-20T00:02:00Z","sample_origins":[],"sample_widget_ids":[],"timestamp":"2025-11-20T00:02:00Z","type":"blocked"}],"security_events_truncated":false,"success":true,"usage":[{"blocked":0,"day":"2025-11-24","domain":"shop.example","messages":1,"widget_id":"w"}]}"#)
        #expect(AdminFunction.json(200, purge).body == #"{"cutoff":"2025-11-24T16:00:00Z","purged":{"expires_by_ttl":false,"messages":4,"security_events":5,"usage_buckets":6},"success":true}"#)
        let failure = AdminFailure(error: .unauthorized, message: "the token's signature does not verify: a/b")
        #expect(failure.jsonValue.jsonString == #"{"error":"unauthorized","message":"the token's signature does not verify: a/b","success":false}"#)
    }

    @Test("an event is written member by member as its tree of members is written, in the API's form and the stored form")
    func directWritingMatchesTheTree() {
        var random = SystemRandomNumberGenerator()
        let pieces = ["a", "Z", "é", "\"", "\\", "/", "\n", "\u{01}", "😀", "limit_type", "_", "0", " "]
        func text() -> String { (0..<Int.random(in: 0...5, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() }
        func maybe() -> String? { Bool.random(using: &random) ? text() : nil }
        for round in 0..<500 {
            let details = Dictionary((0..<Int.random(in: 0...4, using: &random)).map { _ in (text(), text()) }) { a, _ in a }
            let event = SecurityEvent(id: text(), type: SecurityEventType.allCases.randomElement(using: &random)!, widgetId: maybe(),
                                      origin: maybe(), domain: maybe(), sourceIp: text(), userAgent: maybe(), details: details,
                                      createdAt: Date(timeIntervalSince1970: Double.random(in: 0...2e9, using: &random).rounded() / 1000))
            var writer = JSONValueWriter()
            event.write(in: &writer)
            #expect(writer.bytes == event.jsonValue.jsonBytes, "round \(round)")
            let stored = JSONValue.object(event.members(timestamp: .number(event.createdAt.timeIntervalSince1970 * 1000),
                                                        lastSeen: .number(event.lastSeenAt.timeIntervalSince1970 * 1000))).jsonString
            #expect(StoreCoding.json(event) == stored, "round \(round)")
        }
    }
}
