import Foundation
import Handlers
import Testing

@Suite("Admin API: analytics, security events, export and retention")
struct AdminReportTests {
    static let shop = "widget_shop_example_01"

    /// A harness with a widget for shop.example (no minimum interval, so turns can follow each other).
    static func shopHarness() async throws -> Harness {
        let harness = try await Harness.admin()
        var limits = WidgetLimits()
        limits.minMessageIntervalMs = 0
        try await harness.store.putWidget(WidgetConfig(widgetId: shop, name: "Shop", allowedDomains: ["shop.example"], limits: limits,
                                                       createdAt: harness.clock.now()))
        return harness
    }

    /// Chats known in number: 3 from shop.example, 1 from its subdomain, 1 refused origin, 1 filtered message.
    static func knownTraffic(_ harness: Harness, conversation: String = "c-1") async throws {
        for index in 0..<3 {
            let answer = try await harness.chat(Harness.chatBody(message: "Question \(index)?", widget: shop, conversation: conversation),
                                                origin: "https://shop.example", ip: "198.51.100.\(index + 1)")
            #expect(answer.status == 200)
        }
        #expect(try await harness.chat(Harness.chatBody(widget: shop, conversation: "c-blog"), origin: "https://blog.shop.example").status == 200)
        #expect(try await harness.chat(Harness.chatBody(widget: shop), origin: "https://evil.example").status == 403)
        #expect(try await harness.chat(Harness.chatBody(message: "see https://spam.example", widget: shop, conversation: "c-spam"),
                                       origin: "https://shop.example", ip: "198.51.100.9").status == 400)
    }

    @Test("usage analytics count exactly the traffic that happened")
    func usage() async throws {
        let harness = try await Self.shopHarness()
        try await Self.knownTraffic(harness)
        let answer = try await harness.admin("GET", "analytics/usage", query: ["period": "7d"])
        #expect(answer.status == 200)
        let data = try #require(answer.body["data"])
        #expect(data["total_messages"] == .number(4))
        #expect(data["unique_domains"] == .number(2))
        #expect(data["blocked_requests"] == .number(2))
        #expect(data["active_widgets"] == .number(2))
        #expect(data["top_domains"] == .array([
            .object(["domain": .string("shop.example"), "messages": .number(3), "blocked": .number(1)]),
            .object(["domain": .string("blog.shop.example"), "messages": .number(1), "blocked": .number(0)]),
        ]))
        let days = try #require(data["daily_breakdown"]?.arrayValue)
        #expect(days.count == 7)
        #expect(days.first == .object(["date": .string(DailyUsage.day(of: harness.clock.now())), "messages": .number(4), "blocked": .number(2)]))
    }

    @Test("periods select whole UTC days and a widget filter narrows the numbers")
    func periods() async throws {
        let harness = try await Self.shopHarness()
        try await Self.knownTraffic(harness)
        harness.clock.advance(86_400)
        #expect(try await harness.chat(Harness.chatBody(widget: Self.shop, conversation: "c-2"), origin: "https://shop.example").status == 200)
        #expect(try await harness.chat(Harness.chatBody(conversation: "c-demo")).status == 200)

        let today = try await harness.admin("GET", "analytics/usage", query: ["period": "1d"])
        #expect(today.body["data"]?["total_messages"] == .number(2))
        #expect(today.body["data"]?["daily_breakdown"]?.arrayValue?.count == 1)
        let week = try await harness.admin("GET", "analytics/usage", query: ["period": "7d", "widget_id": Self.shop])
        #expect(week.body["data"]?["total_messages"] == .number(5))
        #expect(week.body["data"]?["active_widgets"] == .number(1))
        #expect(week.body["data"]?["daily_breakdown"]?.arrayValue?.prefix(2).map { $0["messages"] } == [.number(1), .number(4)])
        let month = try await harness.admin("GET", "analytics/usage", query: ["period": "30d"])
        #expect(month.body["data"]?["daily_breakdown"]?.arrayValue?.count == 30)

        let invalid = try await harness.admin("GET", "analytics/usage", query: ["period": "90d"])
        #expect(invalid.status == 400)
        #expect(invalid.message.contains("1d, 7d or 30d"))
    }

    @Test("security events filter by type and by hours, newest first")
    func securityEvents() async throws {
        let harness = try await Self.shopHarness()
        try await Self.knownTraffic(harness)
        harness.clock.advance(3 * 3600)
        #expect(try await harness.chat(Harness.chatBody(widget: Self.shop), origin: "https://other.example").status == 403)

        let refused = try await harness.admin("GET", "security/events", query: ["type": "domain_not_allowed"])
        #expect(refused.body["total"] == .number(2))
        let origins = refused.body["events"]?.arrayValue?.compactMap { $0["origin"]?.stringValue }
        #expect(origins == ["https://other.example", "https://evil.example"])
        let lastHour = try await harness.admin("GET", "security/events", query: ["hours": "1"])
        #expect(lastHour.body["total"] == .number(1))
        #expect(try await harness.admin("GET", "security/events", query: ["type": "suspicious_content", "hours": "24"]).body["total"] == .number(1))

        #expect(try await harness.admin("GET", "security/events", query: ["type": "nope"]).message.contains("rate_limit"))
        #expect(try await harness.admin("GET", "security/events", query: ["hours": "0"]).status == 400)
        #expect(try await harness.admin("GET", "security/events", query: ["hours": "721"]).status == 400)
    }

    @Test("the GDPR export holds exactly the records of the domain asked for")
    func export() async throws {
        let harness = try await Self.shopHarness()
        try await Self.knownTraffic(harness)
        let answer = try await harness.admin("GET", "export", query: ["domain": "blog.shop.example"])
        #expect(answer.status == 200)
        #expect(answer.body["domain"] == .string("blog.shop.example"))
        let conversations = try #require(answer.body["conversations"]?.arrayValue)
        #expect(conversations.count == 1)
        #expect(conversations.first?["conversation_id"] == .string("c-blog"))
        #expect(conversations.first?["messages"]?.arrayValue?.map { $0["role"] } == [.string("user"), .string("assistant")])
        #expect(answer.body["security_events"]?.arrayValue?.isEmpty == true)
        #expect(answer.body["usage"]?.arrayValue?.map { $0["messages"] } == [.number(1)])

        let shop = try await harness.admin("GET", "export", query: ["domain": "SHOP.example"])
        let shopConversations = shop.body["conversations"]?.arrayValue ?? []
        #expect(shopConversations.compactMap { $0["conversation_id"]?.stringValue } == ["c-1"], "one conversation: every POST proved it")
        #expect(shopConversations.first?["messages"]?.arrayValue?.count == 6)
        #expect(shop.body["security_events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["suspicious_content"])

        let evil = try await harness.admin("GET", "export", query: ["domain": "evil.example"])
        #expect(evil.body["conversations"]?.arrayValue?.isEmpty == true)
        #expect(evil.body["security_events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["domain_not_allowed"])

        #expect(try await harness.admin("GET", "export").message.contains("domain is required"))
        #expect(try await harness.admin("GET", "export", query: ["domain": "not a domain"]).status == 400)
    }

    @Test("a purge removes only what is past retention")
    func purge() async throws {
        let harness = try await Self.shopHarness()
        try await Self.knownTraffic(harness)
        harness.clock.advance(29 * 86_400)
        #expect(try await harness.chat(Harness.chatBody(widget: Self.shop, conversation: "c-late"), origin: "https://shop.example").status == 200)
        harness.clock.advance(2 * 86_400)

        let purged = try await harness.admin("POST", "retention/purge")
        #expect(purged.status == 200)
        #expect(purged.body["purged"] == .object(["messages": .number(8), "security_events": .number(2), "usage_buckets": .number(3),
                                                  "expires_by_ttl": .bool(false)]))
        let left = try await harness.admin("GET", "export", query: ["domain": "shop.example"])
        #expect(left.body["conversations"]?.arrayValue?.compactMap { $0["conversation_id"]?.stringValue } == ["c-late"])
        #expect(try await harness.store.widget(id: Self.shop) != nil, "configuration is not subject to retention")
        #expect(try await harness.admin("POST", "retention/purge").body["purged"]?["messages"] == .number(0))
    }
}
