import Foundation
import Handlers
import Testing

@Suite("Store conformance: usage, exports and retention")
struct UsageAndRetentionConformanceTests {
    static let day = 86_400.0

    @Test("usage buckets add up exactly under concurrent updates, per day, widget and domain", arguments: StoreKind.allCases)
    func usageBuckets(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        try await store.recordUsage(at: epoch, widgetId: "widget_usage_000001", domain: "customer.com",
                                                    messages: 1, blocked: index.isMultiple(of: 3) ? 1 : 0)
                    }
                }
                try await group.waitForAll()
            }
            try await store.recordUsage(at: epoch, widgetId: "widget_usage_000001", domain: "app.customer.com", messages: 2, blocked: 0)
            try await store.recordUsage(at: epoch.addingTimeInterval(Self.day), widgetId: "widget_usage_000001", domain: "customer.com",
                                        messages: 5, blocked: 1)
            let first = DailyUsage.day(of: epoch), second = DailyUsage.day(of: epoch.addingTimeInterval(Self.day))
            #expect(try await store.usage(days: [first]) == [
                DailyUsage(day: first, widgetId: "widget_usage_000001", domain: "app.customer.com", messages: 2, blocked: 0),
                DailyUsage(day: first, widgetId: "widget_usage_000001", domain: "customer.com", messages: 30, blocked: 10),
            ])
            #expect(try await store.usage(days: [second, first]).count == 3)
            #expect(try await store.usage(days: ["1999-01-01"]).isEmpty)
        }
    }

    @Test("messages by domain are exactly that host's, across widgets and conversations, oldest first", arguments: StoreKind.allCases)
    func messagesByDomain(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            func message(_ content: String, domain: String?, widget: String = "widget_export_00001", conversation: String = "c1",
                         at offset: TimeInterval) -> StoredMessage {
                StoredMessage(widgetId: widget, conversationId: conversation, role: .user, content: content, domain: domain,
                              sourceIp: "203.0.113.9", createdAt: epoch.addingTimeInterval(offset))
            }
            let wanted = [message("one", domain: "customer.com", at: 0), message("two", domain: "customer.com", conversation: "c2", at: 1),
                          message("three", domain: "customer.com", widget: "widget_export_00002", at: 2)]
            let others = [message("sub", domain: "app.customer.com", at: 3), message("none", domain: nil, at: 4),
                          message("evil", domain: "evilcustomer.com", at: 5)]
            for message in [others[0], wanted[0], others[1], wanted[1], others[2], wanted[2]] { try await store.appendMessage(message) }
            #expect(try await store.messages(domain: "customer.com") == wanted)
            #expect(try await store.messages(domain: "nobody.example").isEmpty)
        }
    }

    @Test("security events can be read for one domain exactly", arguments: StoreKind.allCases)
    func eventsByDomain(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            for (index, domain) in ["customer.com", "app.customer.com", "customer.com", "evil.example"].enumerated() {
                try await store.recordSecurityEvent(SecurityEvent(
                    id: "e\(index)", type: .rateLimit, widgetId: "widget_export_00001", origin: "https://\(domain)", domain: domain,
                    sourceIp: "203.0.113.9", userAgent: nil, details: [:], createdAt: epoch.addingTimeInterval(Double(index))))
            }
            let events = try await store.securityEvents(SecurityEventQuery(domain: "customer.com", since: epoch, limit: 100))
            #expect(events.map(\.id) == ["e2", "e0"])
        }
    }

    @Test("a purge removes only what is older than the cutoff; DynamoDB leaves it to TTL", arguments: StoreKind.allCases)
    func purge(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let cutoff = epoch.addingTimeInterval(30 * Self.day)
            for (content, offset) in [("old", 0.0), ("recent", 31 * Self.day)] {
                try await store.appendMessage(StoredMessage(widgetId: "widget_purge_000001", conversationId: "c", role: .user, content: content,
                                                            domain: "customer.com", sourceIp: nil, createdAt: epoch.addingTimeInterval(offset)))
                try await store.recordSecurityEvent(SecurityEvent(
                    id: content, type: .blocked, widgetId: nil, origin: nil, domain: "customer.com", sourceIp: "203.0.113.9",
                    userAgent: nil, details: [:], createdAt: epoch.addingTimeInterval(offset)))
                try await store.recordUsage(at: epoch.addingTimeInterval(offset), widgetId: "widget_purge_000001", domain: "customer.com",
                                            messages: 1, blocked: 0)
            }
            let result = try await store.purge(before: cutoff, now: cutoff)
            if result.expiresByTTL {
                #expect(kind == .dynamoDB)
                #expect(result == PurgeResult(messages: 0, securityEvents: 0, usageBuckets: 0, expiresByTTL: true))
                return
            }
            #expect(result == PurgeResult(messages: 1, securityEvents: 1, usageBuckets: 1))
            #expect(try await store.messages(domain: "customer.com").map(\.content) == ["recent"])
            #expect(try await store.securityEvents(SecurityEventQuery(since: epoch, limit: 10)).map(\.id) == ["recent"])
            #expect(try await store.usage(days: [DailyUsage.day(of: epoch), DailyUsage.day(of: epoch.addingTimeInterval(31 * Self.day))])
                .map(\.day) == [DailyUsage.day(of: epoch.addingTimeInterval(31 * Self.day))])
            #expect(try await store.purge(before: cutoff, now: cutoff) == PurgeResult(messages: 0, securityEvents: 0, usageBuckets: 0))
        }
    }

    @Test("UTC day keys follow the civil calendar, leap days and year ends included")
    func dayKeys() {
        #expect(DailyUsage.day(of: Date(timeIntervalSince1970: 0)) == "1970-01-01")
        #expect(DailyUsage.day(of: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29")
        #expect(DailyUsage.day(of: Date(timeIntervalSince1970: 1_798_761_599)) == "2026-12-31")
        #expect(DailyUsage.day(of: Date(timeIntervalSince1970: 1_798_761_600)) == "2027-01-01")
        #expect(DailyUsage.day(of: Date(timeIntervalSince1970: -1)) == "1969-12-31")
    }
}
