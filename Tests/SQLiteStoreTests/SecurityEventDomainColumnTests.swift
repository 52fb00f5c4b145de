import Foundation
import Handlers
@testable import SQLiteStore
import Testing

/// Security events keep their domain in a column of its own, where earlier versions indexed an
/// expression over the event's JSON; `serve` reuses state files those versions created, and their
/// processes may still share them.
@Suite("SQLite security event domain column")
struct SecurityEventDomainColumnTests {
    static let since = Date(timeIntervalSince1970: 1_750_000_000)

    static func event(_ id: String, domain: String?, at offset: TimeInterval) -> SecurityEvent {
        SecurityEvent(id: id, type: .domainNotAllowed, widgetId: "widget_a_0000000001", origin: domain.map { "https://\($0)" },
                      domain: domain, sourceIp: "203.0.113.1", userAgent: nil, details: [:], createdAt: since.addingTimeInterval(offset))
    }

    /// Writes `events` the way an earlier version did: no domain column, the JSON expression index.
    static func insertAsEarlierVersion(_ events: [SecurityEvent], into database: SQLiteDatabase) throws {
        for event in events {
            try database.query("INSERT INTO security_events (id, type, widget_id, created_at, json) VALUES (?, ?, ?, ?, ?)",
                               [.text(event.id), .text(event.type.rawValue), event.widgetId.map(SQLiteValue.text) ?? .null,
                                .real(event.createdAt.timeIntervalSince1970), .text(StoreCoding.json(event))])
        }
    }

    static func earlierVersionFile(with events: [SecurityEvent]) throws -> String {
        let path = DatabaseFiles.temporaryPath("events")
        let database = try SQLiteDatabase(path: path)
        try database.execute("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE security_events (
                id TEXT PRIMARY KEY, type TEXT NOT NULL, widget_id TEXT, created_at REAL NOT NULL, json TEXT NOT NULL);
            CREATE INDEX security_events_by_domain ON security_events (json_extract(json, '$.domain'), created_at, id);
            """)
        try insertAsEarlierVersion(events, into: database)
        return path
    }

    static func indexDefinition(in path: String) throws -> String? {
        try SQLiteDatabase(path: path).query("SELECT sql FROM sqlite_master WHERE name = 'security_events_by_domain'").first?[0].text
    }

    @Test("events an earlier version recorded are listed by domain once the file is opened")
    func earlierEventsListedByDomain() async throws {
        let path = try Self.earlierVersionFile(with: [Self.event("e0", domain: "customer.com", at: 0), Self.event("e1", domain: nil, at: 1),
                                                      Self.event("e2", domain: "customer.com", at: 2)])
        defer { DatabaseFiles.remove(path) }
        let store = try SQLiteStore(.file(path))
        let found = try await store.securityEvents(SecurityEventQuery(domain: "customer.com", since: Self.since))
        #expect(found.map(\.id) == ["e2", "e0"])
        #expect(try await store.securityEvents(SecurityEventQuery(since: Self.since)).count == 3)
    }

    @Test("the domain index is over the column, not the JSON, in a migrated file")
    func migratedIndexIsOverTheColumn() throws {
        let path = try Self.earlierVersionFile(with: [Self.event("e0", domain: "customer.com", at: 0)])
        defer { DatabaseFiles.remove(path) }
        _ = try SQLiteStore(.file(path))
        let definition = try #require(try Self.indexDefinition(in: path))
        #expect(!definition.contains("json_extract"), "\(definition)")
        #expect(definition.contains("(domain, created_at, id)"), "\(definition)")
    }

    @Test("an event an earlier version records in a migrated file is listed by domain after the next open")
    func laterEarlierVersionEventFilledOnOpen() async throws {
        let path = try Self.earlierVersionFile(with: [])
        defer { DatabaseFiles.remove(path) }
        _ = try SQLiteStore(.file(path))
        try Self.insertAsEarlierVersion([Self.event("late", domain: "customer.com", at: 5)], into: SQLiteDatabase(path: path))
        let reopened = try SQLiteStore(.file(path))
        let found = try await reopened.securityEvents(SecurityEventQuery(domain: "customer.com", since: Self.since))
        #expect(found.map(\.id) == ["late"])
    }

    @Test("an event without a domain is not listed under any domain")
    func eventWithoutDomainMatchesNoDomain() async throws {
        let store = try SQLiteStore(.inMemory)
        try await store.recordSecurityEvent(Self.event("none", domain: nil, at: 0))
        try await store.recordSecurityEvent(Self.event("some", domain: "customer.com", at: 1))
        #expect(try await store.securityEvents(SecurityEventQuery(domain: "customer.com", since: Self.since)).map(\.id) == ["some"])
        let all = try await store.securityEvents(SecurityEventQuery(since: Self.since))
        #expect(all.first { $0.id == "none" }?.domain == nil)
    }
}
