import Foundation
import Handlers
import Testing

@Suite("Store conformance: security events")
struct SecurityEventConformanceTests {
    static func event(_ id: String, _ type: SecurityEventType, widget: String?, at seconds: TimeInterval) -> SecurityEvent {
        SecurityEvent(id: id, type: type, widgetId: widget, origin: "https://evil.example", domain: "evil.example", sourceIp: "198.51.100.7",
                      userAgent: nil, details: ["limit_type": "per_minute"], createdAt: epoch.addingTimeInterval(seconds))
    }

    let events = [
        event("e1", .rateLimit, widget: "widget_a_0000000001", at: 10),
        event("e2", .originNotAllowed, widget: nil, at: 20),
        event("e3", .rateLimit, widget: "widget_b_0000000001", at: 30),
        event("e4", .blocked, widget: "widget_a_0000000001", at: 40),
        event("e5", .rateLimit, widget: "widget_a_0000000001", at: 50),
    ]

    @Test("events come back newest first, filtered by type, widget and time", arguments: StoreKind.allCases)
    func filtering(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            for event in events.shuffled() { try await store.recordSecurityEvent(event) }
            func ids(_ query: SecurityEventQuery) async throws -> [String] { try await store.securityEvents(query).map(\.id) }
            #expect(try await store.securityEvents(SecurityEventQuery(since: epoch)) == events.reversed())
            #expect(try await ids(SecurityEventQuery(type: .rateLimit, since: epoch)) == ["e5", "e3", "e1"])
            #expect(try await ids(SecurityEventQuery(widgetId: "widget_a_0000000001", since: epoch)) == ["e5", "e4", "e1"])
            #expect(try await ids(SecurityEventQuery(type: .rateLimit, widgetId: "widget_a_0000000001", since: epoch)) == ["e5", "e1"])
            #expect(try await ids(SecurityEventQuery(since: epoch.addingTimeInterval(30))) == ["e5", "e4", "e3"])
            #expect(try await ids(SecurityEventQuery(since: epoch.addingTimeInterval(51))).isEmpty)
            #expect(try await ids(SecurityEventQuery(type: .suspiciousContent, since: epoch)).isEmpty)
        }
    }

    @Test("a limit returns the newest matching events, however many others lie between", arguments: StoreKind.allCases)
    func limitWithFilter(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            for index in 0..<150 {
                let type: SecurityEventType = index.isMultiple(of: 10) ? .blocked : .rateLimit
                try await store.recordSecurityEvent(Self.event(String(format: "ev%03d", index), type, widget: nil, at: TimeInterval(index)))
            }
            #expect(try await store.securityEvents(SecurityEventQuery(type: .blocked, since: epoch, limit: 4)).map(\.id)
                == ["ev140", "ev130", "ev120", "ev110"])
            #expect(try await store.securityEvents(SecurityEventQuery(since: epoch, limit: 3)).map(\.id) == ["ev149", "ev148", "ev147"])
            #expect(try await store.securityEvents(SecurityEventQuery(since: epoch, limit: 0)).isEmpty)
        }
    }

    @Test("a listing with an end leaves out what came after it, and keeps what came at that very instant",
          arguments: StoreKind.allCases)
    func listingEndsAtUntil(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            for (id, offset) in [("early", 1.0), ("at-end", 5.0), ("z-at-end", 5.0), ("late", 9.0)] {
                try await store.recordSecurityEvent(Self.event(id, .rateLimit, widget: "widget_until_000001", at: offset))
            }
            let end = epoch.addingTimeInterval(5)
            #expect(try await store.securityEvents(SecurityEventQuery(since: epoch, until: end)).map(\.id) == ["z-at-end", "at-end", "early"])
            #expect(try await store.securityEvents(SecurityEventQuery(type: .rateLimit, since: epoch, until: end, limit: 1)).map(\.id)
                == ["z-at-end"])
            #expect(try await store.securityEvents(SecurityEventQuery(widgetId: "widget_until_000001", since: epoch,
                                                                      until: epoch.addingTimeInterval(2))).map(\.id) == ["early"])
            #expect(try await store.securityEvents(SecurityEventQuery(since: epoch)).map(\.id).first == "late")
        }
    }

    @Test("events at the same instant are ordered by id, newest first", arguments: StoreKind.allCases)
    func sameInstant(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            for id in ["b", "c", "a"] { try await store.recordSecurityEvent(Self.event(id, .blocked, widget: nil, at: 5)) }
            #expect(try await store.securityEvents(SecurityEventQuery(since: epoch)).map(\.id) == ["c", "b", "a"])
        }
    }

    @Test("events of one id fold into one: counts add up, the last time is kept, samples stay distinct and bounded",
          arguments: StoreKind.allCases)
    func aggregation(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let first = Self.event("agg", .widgetNotFound, widget: "widget_a_0000000001", at: 10)
            try await store.recordSecurityEvent(first)
            for index in 0..<12 {
                var later = Self.event("agg", .widgetNotFound, widget: "widget_\(index % 8)_0000000001", at: 11 + TimeInterval(index))
                later.origin = "https://attacker\(index % 3).example"
                later.sampleWidgetIds = [later.widgetId ?? ""]
                later.sampleOrigins = [later.origin ?? ""]
                try await store.recordSecurityEvent(later)
            }
            let stored = try await store.securityEvents(SecurityEventQuery(since: epoch))
            #expect(stored.count == 1)
            let event = try #require(stored.first)
            #expect(event.count == 13)
            #expect(event.createdAt == first.createdAt, "the first refusal's fields are kept")
            #expect(event.widgetId == first.widgetId)
            #expect(event.lastSeenAt == epoch.addingTimeInterval(22))
            #expect(event.sampleWidgetIds.count == SecurityEvent.sampleLimit)
            #expect(Set(event.sampleWidgetIds).count == event.sampleWidgetIds.count)
            #expect(event.sampleWidgetIds.contains("widget_a_0000000001"))
            #expect(Set(event.sampleOrigins) == ["https://evil.example", "https://attacker0.example", "https://attacker1.example",
                                                 "https://attacker2.example"])
        }
    }

    @Test("concurrent refusals folded into one event are all counted", arguments: StoreKind.allCases)
    func concurrentAggregation(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask { try await store.recordSecurityEvent(Self.event("flood", .blocked, widget: nil, at: TimeInterval(index))) }
                }
                try await group.waitForAll()
            }
            let stored = try await store.securityEvents(SecurityEventQuery(since: epoch))
            #expect(stored.map(\.count) == [40])
        }
    }
}
