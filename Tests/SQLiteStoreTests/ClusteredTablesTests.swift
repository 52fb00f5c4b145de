import Foundation
import Handlers
@testable import SQLiteStore
import Testing

/// Messages, counters, intervals and blocks moved from rowid tables to tables stored in their key's
/// order; `serve` reuses state files that earlier versions created.
@Suite("SQLite clustered tables")
struct ClusteredTablesTests {
    static let widget = "widget_cluster_0001"
    static let epoch = Date(timeIntervalSince1970: 1_750_000_000)

    static func message(_ conversation: String, _ content: String, at offset: TimeInterval) -> StoredMessage {
        StoredMessage(widgetId: widget, conversationId: conversation, role: .user, content: content, domain: "customer.com",
                      sourceIp: "203.0.113.9", createdAt: epoch.addingTimeInterval(offset))
    }

    /// A state file as versions before the clustered tables left it: messages numbered by one
    /// AUTOINCREMENT id across conversations (interleaved here), and a counter, an interval and a block.
    static func rowidFile() throws -> String {
        let path = DatabaseFiles.temporaryPath("rowid")
        let database = try SQLiteDatabase(path: path)
        try database.execute("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT, widget_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
                role TEXT NOT NULL, content TEXT NOT NULL, domain TEXT, source_ip TEXT, created_at REAL NOT NULL);
            CREATE INDEX messages_by_conversation ON messages (widget_id, conversation_id, id);
            CREATE INDEX messages_by_time ON messages (created_at);
            CREATE INDEX messages_by_domain ON messages (domain, id);
            CREATE TABLE counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL);
            CREATE TABLE intervals (key TEXT PRIMARY KEY, last_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE TABLE blocks (key TEXT PRIMARY KEY, until REAL NOT NULL);
            INSERT INTO counters VALUES ('count:w:ip:per_minute:0', 7, 4102444800);
            INSERT INTO intervals VALUES ('interval:w:ip', 1750000000, 4102444800);
            INSERT INTO blocks VALUES ('block:w:ip', 4102444800);
            """)
        for (offset, (conversation, content)) in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2"), ("a", "a3")].enumerated() {
            let stored = message(conversation, content, at: TimeInterval(offset))
            try database.query("""
                INSERT INTO messages (widget_id, conversation_id, role, content, domain, source_ip, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(stored.widgetId), .text(stored.conversationId), .text(stored.role.rawValue), .text(stored.content),
                      .text("customer.com"), .text("203.0.113.9"), .real(stored.createdAt.timeIntervalSince1970)])
        }
        return path
    }

    @Test("an earlier state file's conversations read back whole and in order, and continue after it")
    func conversationsSurvive() async throws {
        let path = try Self.rowidFile()
        defer { DatabaseFiles.remove(path) }
        let store = try SQLiteStore(.file(path))
        #expect(try await store.messages(widgetId: Self.widget, conversationId: "a", limit: 10).map(\.content) == ["a1", "a2", "a3"])
        try await store.appendMessage(Self.message("a", "a4", at: 10))
        #expect(try await store.messages(widgetId: Self.widget, conversationId: "a", limit: 2).map(\.content) == ["a3", "a4"])
        #expect(try await store.messages(domain: "customer.com").map(\.content) == ["a1", "b1", "a2", "b2", "a3", "a4"])
    }

    @Test("the purge walks the domain index, domain by domain, and never the table")
    func purgeUsesTheDomainIndex() throws {
        let plan = try SQLiteDatabase.withStoreSchema().queryPlan(SQLiteStore.purgeMessages, [.real(0)])
        #expect(plan.contains { $0.contains("messages_by_domain_and_time (domain=? AND created_at<?)") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN messages") }, "\(plan)")
    }

    @Test("a purge removes exactly the old messages of every domain, and of none")
    func purgeCoversEveryDomain() async throws {
        let store = try SQLiteStore(.inMemory)
        for (index, domain) in ["a.example", "b.example", nil, "c.example", "a.example", nil].enumerated() {
            for (age, offset) in [("old", 0.0), ("new", 100.0)] {
                try await store.appendMessage(StoredMessage(
                    widgetId: Self.widget, conversationId: "c\(index)", role: .user, content: age, domain: domain,
                    sourceIp: "203.0.113.9", createdAt: Self.epoch.addingTimeInterval(offset + Double(index))))
            }
        }
        let purged = try await store.purge(before: Self.epoch.addingTimeInterval(50), now: Self.epoch)
        #expect(purged.messages == 6)
        for index in 0..<6 {
            #expect(try await store.messages(widgetId: Self.widget, conversationId: "c\(index)", limit: 10).map(\.content) == ["new"])
        }
    }

    @Test("an earlier state file's counters, intervals and blocks keep their values")
    func limitsSurvive() async throws {
        let path = try Self.rowidFile()
        defer { DatabaseFiles.remove(path) }
        let store = try SQLiteStore(.file(path))
        let expiry = Date(timeIntervalSince1970: 4_102_444_800)
        #expect(try await store.increment("count:w:ip:per_minute:0", limit: 100, expiresAt: expiry) == .admitted(count: 8))
        #expect(try await store.blockedUntil("block:w:ip", now: Self.epoch) == expiry)
        #expect(try await store.claimInterval("interval:w:ip", now: Self.epoch, interval: 2, expiresAt: expiry) == 2)
    }

    @Test("every table read per message is stored in key order, in new and in rewritten files", arguments: [false, true])
    func tablesAreClustered(rewritten: Bool) throws {
        let path = rewritten ? try Self.rowidFile() : DatabaseFiles.temporaryPath("clustered")
        defer { DatabaseFiles.remove(path) }
        _ = try SQLiteStore(.file(path))
        // Opening again finds nothing left to rewrite.
        _ = try SQLiteStore(.file(path))
        let database = try SQLiteDatabase(path: path)
        for table in ["messages", "counters", "intervals", "blocks"] {
            let definition = try database.query("SELECT sql FROM sqlite_master WHERE name = ?", [.text(table)]).first?[0].text ?? ""
            #expect(definition.contains("WITHOUT ROWID"), "\(table): \(definition)")
        }
        #expect(try database.query("PRAGMA integrity_check") == [[.text("ok")]])
    }

    @Test("messages carry one index, by domain and time, in new files and in files an earlier version indexed by time too",
          arguments: [false, true])
    func messagesHaveOneSecondaryIndex(earlier: Bool) throws {
        let path = earlier ? try Self.rowidFile() : DatabaseFiles.temporaryPath("unindexed")
        defer { DatabaseFiles.remove(path) }
        if earlier {
            // As the previous version left its file: clustered, with indexes by time and by domain.
            _ = try SQLiteStore(.file(path))
            try SQLiteDatabase(path: path).execute("""
                CREATE INDEX messages_by_time ON messages (created_at);
                CREATE INDEX IF NOT EXISTS messages_by_domain_and_time ON messages (domain, created_at);
                """)
        }
        _ = try SQLiteStore(.file(path))
        let database = try SQLiteDatabase(path: path)
        #expect(try database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'")
            == [[.text("messages_by_domain_and_time")]])
        #expect(try database.query("PRAGMA integrity_check") == [[.text("ok")]])
    }
}
