import Foundation
import Handlers
@testable import SQLiteStore
import Testing

/// The admin API reads security events by type, widget or domain; events accumulate for the whole
/// retention period, so each filter must be answered from an index ordered like the result
/// (newest first) rather than by walking every event since `since`.
@Suite("SQLite security event queries")
struct SecurityEventQueryPlanTests {
    /// SQLite's plan for the statement `securityEvents(_:)` runs, against the store's own schema.
    static func plan(_ query: SecurityEventQuery) throws -> [String] {
        let (sql, parameters) = SQLiteStore.securityEventsStatement(query)
        return try SQLiteDatabase.withStoreSchema().queryPlan(sql, parameters)
    }

    static let since = Date(timeIntervalSince1970: 1_750_000_000)

    @Test("each filter is answered from its own index, in result order, without a sort",
          arguments: [
            (SecurityEventQuery(type: .rateLimit, since: since), "security_events_by_type"),
            (SecurityEventQuery(widgetId: "widget_a_0000000001", since: since), "security_events_by_widget"),
            (SecurityEventQuery(domain: "customer.com", since: since), "security_events_by_domain"),
          ])
    func filterUsesItsIndex(query: SecurityEventQuery, index: String) throws {
        let plan = try Self.plan(query)
        #expect(plan.contains { $0.contains("USING INDEX \(index)") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    @Test("a domain filter combined with a type returns that domain's events of that type only, newest first")
    func domainFilterFindsEventsOfThatDomainOnly() async throws {
        let store = try SQLiteStore(.inMemory)
        for (index, domain) in ["customer.com", "other.com", "customer.com", "shop.customer.com"].enumerated() {
            try await store.recordSecurityEvent(SecurityEvent(
                id: "e\(index)", type: .domainNotAllowed, widgetId: nil, origin: "https://\(domain)", domain: domain,
                sourceIp: "203.0.113.1", userAgent: nil, details: [:], createdAt: Self.since.addingTimeInterval(Double(index))))
        }
        let found = try await store.securityEvents(SecurityEventQuery(type: .domainNotAllowed, domain: "customer.com", since: Self.since))
        #expect(found.map(\.id) == ["e2", "e0"])
    }
}
