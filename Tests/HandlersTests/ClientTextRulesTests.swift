import Foundation
@testable import Handlers
import Testing

/// Everything a client sends is held to the message rules: history turns, and lengths that
/// combining marks cannot stretch.
@Suite("Client text rules")
struct ClientTextRulesTests {
    static func body(_ turns: [(String, String)]) -> String {
        JSONCoding.string(["widget_id": JSONValue.string(DemoWidget.id), "conversation_id": .string("h-1"),
                           "messages": .array(turns.map { .object(["role": .string($0.0), "content": .string($0.1)]) })])
    }

    @Test("a letter with 60,000 combining marks is one character but 60,001 scalars: too long")
    func combiningMarks() async throws {
        let harness = try await Harness(environment: ["MAX_BODY_BYTES": "200000"])
        let response = try await harness.chat(Harness.chatBody(message: "a" + String(repeating: "\u{0301}", count: 60_000)))
        #expect(response.status == 400)
        #expect(response.body?["error"] == .string("message_too_long"))
        #expect(try await harness.events(.messageTooLong).first?.details["scalars"] == "60001")
    }

    @Test("a message of exactly max_message_length scalars is accepted, one more is not")
    func boundary() async throws {
        let harness = try await Harness()
        let exactly = String(String(repeating: "abcdéfghij", count: 200).prefix(2000))
        #expect(try await harness.chat(Harness.chatBody(message: exactly)).status == 200)
        harness.clock.advance(60)
        #expect(try await harness.chat(Harness.chatBody(message: exactly + "k")).status == 400)
    }

    @Test("a history turn with a link, markup or a script scheme is content_filtered", arguments: [
        "see https://evil.example", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
    ])
    func historyContent(_ text: String) async throws {
        let response = try await Harness().chat(Self.body([("assistant", text), ("user", "and?")]))
        #expect(response.status == 400)
        #expect(response.body?["error"] == .string("content_filtered"))
    }

    @Test("a history turn over max_message_length is message_too_long")
    func historyTurnLength() async throws {
        let response = try await Harness().chat(Self.body([("user", String(repeating: "ab ", count: 700)), ("user", "and?")]))
        #expect(response.body?["error"] == .string("message_too_long"))
    }

    @Test("history turns within the limit each but over the budget together are payload_too_large")
    func historyBudget() async throws {
        let turn = String(repeating: "lorem ipsum ", count: 160)
        let response = try await Harness().chat(Self.body(Array(repeating: ("user", turn), count: 9) + [("user", "and?")]))
        #expect(response.status == 413)
        #expect(response.body?["error"] == .string("payload_too_large"))
    }

    @Test("every kind of refusal counts towards the client's block, which then refuses a fair message")
    func everyRefusalCounts() async throws {
        let harness = try await Harness()
        #expect(try await harness.chat(Harness.chatBody(widget: "widget_unknown_widget_1")).status == 404)
        #expect(try await harness.chat(Harness.chatBody(widget: "not a widget")).status == 400)
        #expect(try await harness.chat(Harness.chatBody(message: String(repeating: "ab ", count: 700))).status == 400)
        let blocked = try await harness.chat(Harness.chatBody())
        #expect(blocked.status == 429)
        #expect(blocked.body?["error"] == .string("temporarily_blocked"))
        #expect(try await harness.chat(Harness.chatBody(), ip: "198.51.100.8").status == 200, "another IP is not blocked")
    }

    @Test("a blocked client's flood is one aggregated event that counts every refusal")
    func floodIsAggregated() async throws {
        let harness = try await Harness()
        for _ in 0..<3 { _ = try await harness.chat(Harness.chatBody(widget: "widget_unknown_widget_1")) }
        for _ in 0..<200 { _ = try await harness.chat(Harness.chatBody()) }
        let events = try await harness.events()
        // The block's start and the 200 requests refused for it are one `blocked` event of the minute.
        #expect(events.count == 2, "\(events.map { ($0.type, $0.count) })")
        #expect(events.first { $0.type == .blocked }?.count == 201)
        #expect(events.first { $0.type == .widgetNotFound }?.count == 3)
    }

    @Test("chat and admin responses carry the security headers, HSTS only over HTTPS")
    func securityHeaders() async throws {
        let harness = try await Harness()
        for response in [try await harness.chat(Harness.chatBody()), try await harness.chat("{", headers: ["x-forwarded-proto": "https"])] {
            #expect(response.headers["x-content-type-options"] == "nosniff")
            #expect(response.headers["x-frame-options"] == "DENY")
            #expect(response.headers["referrer-policy"] == "no-referrer")
        }
        #expect(try await harness.chat(Harness.chatBody()).headers["strict-transport-security"] == nil)
        #expect(try await harness.chat("{", headers: ["x-forwarded-proto": "https"]).headers["strict-transport-security"] != nil)
    }

    @Test("refusals a page elsewhere makes a visitor's browser send block the visitor only for that page's origin")
    func crossSiteRefusalsDoNotBlockTheVisitor() async throws {
        let harness = try await Harness()
        for _ in 0..<3 {
            #expect(try await harness.chat(Harness.chatBody(), origin: "https://evil.example").status == 403)
        }
        #expect(try await harness.chat(Harness.chatBody(), origin: "https://evil.example").body?["error"] == .string("temporarily_blocked"))
        #expect(try await harness.chat(Harness.chatBody()).status == 200, "the visitor still chats on the widget's own site")
    }

    @Test("one client's IPv6 addresses share its limits and its block")
    func ipv6Rotation() async throws {
        let harness = try await Harness()
        for index in 1...3 {
            #expect(try await harness.chat(Harness.chatBody(widget: "widget_unknown_widget_1"), ip: "2001:db8:1:2::\(index)").status == 404)
        }
        #expect(try await harness.chat(Harness.chatBody(), ip: "2001:db8:1:2::99").body?["error"] == .string("temporarily_blocked"))
        #expect(try await harness.chat(Harness.chatBody(), ip: "2001:db8:1:3::1").status == 200)
    }

    @Test("refusals naming made-up widgets and origins add no usage rows of their own")
    func madeUpNamesAddNoUsageRows() async throws {
        let harness = try await Harness()
        for index in 0..<50 {
            _ = try await harness.chat(Harness.chatBody(widget: "widget_made_up_\(100_000 + index)"), origin: "https://x\(index).attacker.example")
        }
        let day = String(ISO8601.string(harness.clock.now()).prefix(10))
        let buckets = try await harness.store.usage(days: [day])
        #expect(buckets.count == 1, "\(buckets)")
        #expect(buckets.first?.blocked == 50)
    }

    @Test("links hidden by zero-width or full-width characters are still links")
    func invisibleCharacters() async throws {
        for text in ["see h\u{200B}ttps://evil.example", "ｈｔｔｐｓ：／／evil.example", "<\u{200D}script>x</script>", "java\u{2060}script:alert(1)"] {
            #expect(ContentFilter().violation(in: text) != nil, "\(text)")
        }
        #expect(ContentFilter().violation(in: "Ｈｅｌｌｏ，ｔｈｅｒｅ") == nil)
    }
}
