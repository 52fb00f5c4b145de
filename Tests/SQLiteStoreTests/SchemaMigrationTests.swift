import Foundation
import Handlers
@testable import SQLiteStore
import Testing

/// A state file of every layout an earlier version wrote opens as the current version, with its
/// data, and ends with the layout of a new file. The layouts are those the versions in the git
/// history of `Sources/SQLiteStore/SQLiteStore.swift` created for a new file; none of them recorded
/// a `user_version`, so all are version 0 to `SchemaMigrations`.
@Suite("SQLite schema migrations")
struct SchemaMigrationTests {
    /// A layout of the past: the commit that introduced it, and the statements that made a new file.
    struct PastLayout: CustomTestStringConvertible, Sendable {
        var commit: String
        var statements: String
        var testDescription: String { commit }

        /// Whether messages, counters, intervals and blocks are stored by rowid in this layout.
        var rowidTables: Bool { !statements.contains("WITHOUT ROWID") }
    }

    static let rowidTables = """
        CREATE TABLE widgets (widget_id TEXT PRIMARY KEY, is_active INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE TABLE widget_domains (domain TEXT NOT NULL, widget_id TEXT NOT NULL, PRIMARY KEY (domain, widget_id));
        CREATE TABLE connections (connection_id TEXT PRIMARY KEY, expires_at REAL NOT NULL, json TEXT NOT NULL);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT, widget_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
            role TEXT NOT NULL, content TEXT NOT NULL, domain TEXT, source_ip TEXT, created_at REAL NOT NULL);
        CREATE INDEX messages_by_conversation ON messages (widget_id, conversation_id, id);
        CREATE INDEX messages_by_time ON messages (created_at);
        CREATE TABLE counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL);
        CREATE TABLE intervals (key TEXT PRIMARY KEY, last_at REAL NOT NULL, expires_at REAL NOT NULL);
        CREATE TABLE blocks (key TEXT PRIMARY KEY, until REAL NOT NULL);
        CREATE TABLE security_events (
            id TEXT PRIMARY KEY, type TEXT NOT NULL, widget_id TEXT, created_at REAL NOT NULL, json TEXT NOT NULL);
        CREATE INDEX security_events_by_time ON security_events (created_at);

        """
    static let usageTable = """
        CREATE TABLE usage_daily (
            day TEXT NOT NULL, widget_id TEXT NOT NULL, domain TEXT NOT NULL,
            messages INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, widget_id, domain));

        """
    static let connectionColumns = SQLiteStore.connectionColumns.map { "ALTER TABLE connections ADD COLUMN \($0);\n" }.joined()
    static let securityEventIndexesOverJSON = """
        CREATE INDEX security_events_by_type ON security_events (type, created_at, id);
        CREATE INDEX security_events_by_widget ON security_events (widget_id, created_at, id);
        CREATE INDEX security_events_by_domain ON security_events (json_extract(json, '$.domain'), created_at, id);

        """
    static let clusteredTables = """
        CREATE TABLE messages (
            widget_id TEXT NOT NULL, conversation_id TEXT NOT NULL, id INTEGER NOT NULL, role TEXT NOT NULL,
            content TEXT NOT NULL, domain TEXT, source_ip TEXT, created_at REAL NOT NULL,
            PRIMARY KEY (widget_id, conversation_id, id)) WITHOUT ROWID;
        CREATE TABLE counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
        CREATE TABLE intervals (key TEXT PRIMARY KEY, last_at REAL NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
        CREATE TABLE blocks (key TEXT PRIMARY KEY, until REAL NOT NULL) WITHOUT ROWID;
        CREATE TABLE widgets (widget_id TEXT PRIMARY KEY, is_active INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE TABLE widget_domains (domain TEXT NOT NULL, widget_id TEXT NOT NULL, PRIMARY KEY (domain, widget_id));
        CREATE TABLE connections (connection_id TEXT PRIMARY KEY, expires_at REAL NOT NULL, json TEXT NOT NULL);

        """
    static let securityEventsWithoutDomain = """
        CREATE TABLE security_events (
            id TEXT PRIMARY KEY, type TEXT NOT NULL, widget_id TEXT, created_at REAL NOT NULL, json TEXT NOT NULL);
        CREATE INDEX security_events_by_time ON security_events (created_at);

        """

    static let pastLayouts: [PastLayout] = [
        // The first store: rowid tables, messages indexed by conversation and by time.
        PastLayout(commit: "60cd6e6", statements: rowidTables),
        // The admin API: usage buckets, messages indexed by domain.
        PastLayout(commit: "4a1e77f", statements: rowidTables + "CREATE INDEX messages_by_domain ON messages (domain, id);\n" + usageTable),
        // Connection fields in columns.
        PastLayout(commit: "266e36e", statements: rowidTables + "CREATE INDEX messages_by_domain ON messages (domain, id);\n"
                   + usageTable + connectionColumns),
        // Security events indexed per filter, the domain through the JSON.
        PastLayout(commit: "4084ff1", statements: rowidTables + securityEventIndexesOverJSON
                   + "CREATE INDEX messages_by_domain ON messages (domain, id);\n" + usageTable + connectionColumns),
        // Tables stored in key order; messages indexed by time and by domain and time.
        PastLayout(commit: "82257f9", statements: clusteredTables + """
            CREATE INDEX messages_by_time ON messages (created_at);
            CREATE INDEX messages_by_domain_and_time ON messages (domain, created_at);

            """ + securityEventsWithoutDomain + securityEventIndexesOverJSON + usageTable + connectionColumns),
        // Messages without secondary indexes.
        PastLayout(commit: "b56cae0", statements: clusteredTables + securityEventsWithoutDomain + securityEventIndexesOverJSON
                   + usageTable + connectionColumns),
        // Messages indexed by domain and time only.
        PastLayout(commit: "0fa35af", statements: clusteredTables + "CREATE INDEX messages_by_domain_and_time ON messages (domain, created_at);\n"
                   + securityEventsWithoutDomain + securityEventIndexesOverJSON + usageTable + connectionColumns),
        // Security events with a domain column: the current layout, without a recorded version.
        PastLayout(commit: "b96839f", statements: clusteredTables + """
            CREATE INDEX messages_by_domain_and_time ON messages (domain, created_at);
            CREATE TABLE security_events (
                id TEXT PRIMARY KEY, type TEXT NOT NULL, widget_id TEXT, created_at REAL NOT NULL, json TEXT NOT NULL, domain TEXT);
            CREATE INDEX security_events_by_time ON security_events (created_at);
            CREATE INDEX security_events_by_type ON security_events (type, created_at, id);
            CREATE INDEX security_events_by_widget ON security_events (widget_id, created_at, id);
            CREATE INDEX security_events_by_domain ON security_events (domain, created_at, id);

            """ + usageTable + connectionColumns),
    ]

    static let epoch = Date(timeIntervalSince1970: 1_750_000_000)
    static let farFuture = Date(timeIntervalSince1970: 4_102_444_800)
    static let widget = DemoWidget.make(createdAt: epoch)
    static let connection = ConnectionRecord(
        connectionId: "IU3kkeN4IAMCJwA=", widgetId: DemoWidget.id, sessionId: "session-1", origin: "https://customer.com",
        sourceIp: "203.0.113.9", userAgent: nil, userId: "anonymous", connectedAt: epoch, expiresAt: farFuture)
    static let event = SecurityEvent(
        id: "e0", type: .domainNotAllowed, widgetId: DemoWidget.id, origin: "https://customer.com", domain: "customer.com",
        sourceIp: "203.0.113.1", userAgent: nil, details: [:], createdAt: epoch)

    /// A file in `layout` holding one of each record, written as the versions of that layout did.
    static func file(in layout: PastLayout) throws -> String {
        let path = DatabaseFiles.temporaryPath("layout-\(layout.commit)")
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode=WAL;\n" + layout.statements)
        try database.query("INSERT INTO widgets (widget_id, is_active, json) VALUES (?, 1, ?)",
                           [.text(widget.widgetId), .text(String(decoding: try StoreCoding.encoder.encode(widget), as: UTF8.self))])
        try database.query("INSERT INTO connections (connection_id, expires_at, json) VALUES (?, ?, ?)",
                           [.text(connection.connectionId), .real(farFuture.timeIntervalSince1970),
                            .text(String(decoding: try StoreCoding.encoder.encode(connection), as: UTF8.self))])
        for (index, content) in ["first", "second", "third"].enumerated() {
            let values: [SQLiteValue] = [.text(DemoWidget.id), .text("conversation-1"), .text(index % 2 == 0 ? "user" : "assistant"),
                                         .text(content), .text("customer.com"), .text("203.0.113.9"),
                                         .real(epoch.timeIntervalSince1970 + Double(index))]
            if layout.rowidTables {
                try database.query("""
                    INSERT INTO messages (widget_id, conversation_id, role, content, domain, source_ip, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, values)
            } else {
                try database.query("""
                    INSERT INTO messages (widget_id, conversation_id, id, role, content, domain, source_ip, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [values[0], values[1], .integer(Int64(index + 1))] + values[2...])
            }
        }
        try database.execute("""
            INSERT INTO counters VALUES ('count:w:ip:per_minute:0', 7, 4102444800);
            INSERT INTO intervals VALUES ('interval:w:ip', 1750000000, 4102444800);
            INSERT INTO blocks VALUES ('block:w:ip', 4102444800);
            """)
        try database.query("INSERT INTO security_events (id, type, widget_id, created_at, json) VALUES (?, ?, ?, ?, ?)",
                           [.text(event.id), .text(event.type.rawValue), .text(DemoWidget.id), .real(epoch.timeIntervalSince1970),
                            .text(StoreCoding.json(event))])
        return path
    }

    /// Each table's and index's name with its columns and storage, as SQLite describes them: equal
    /// for two files exactly when their layouts are.
    static func layout(of path: String) throws -> [String] {
        let database = try SQLiteDatabase(path: path)
        let objects = try database.query("""
            SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name
            """)
        return try objects.map { object in
            let name = object[1].text ?? ""
            if object[0].text == "index" {
                let columns = try database.query("SELECT name FROM pragma_index_info(?)", [.text(name)]).map { $0[0].text ?? "<expression>" }
                return "index \(name) on \(object[2].text ?? ""): \(columns.joined(separator: ", "))"
            }
            let columns = try database.query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)", [.text(name)])
                .map { $0.map { $0.text ?? $0.integer.map(String.init) ?? "" }.joined(separator: " ") }
            let keyOrdered = (object[3].text ?? "").uppercased().contains("WITHOUT ROWID")
            return "table \(name)\(keyOrdered ? " without rowid" : ""): \(columns.joined(separator: ", "))"
        }
    }

    @Test("a file of each past layout migrates to the current version with its data", arguments: pastLayouts)
    func migratesWithItsData(layout: PastLayout) async throws {
        let path = try Self.file(in: layout)
        defer { DatabaseFiles.remove(path) }
        let store = try SQLiteStore(.file(path))

        #expect(try await store.widget(id: DemoWidget.id) == Self.widget)
        #expect(try await store.connection(id: Self.connection.connectionId) == Self.connection)
        #expect(try await store.messages(widgetId: DemoWidget.id, conversationId: "conversation-1", limit: 10).map(\.content)
                == ["first", "second", "third"])
        #expect(try await store.securityEvents(SecurityEventQuery(domain: "customer.com", since: Self.epoch)).map(\.id) == ["e0"])
        #expect(try await store.increment("count:w:ip:per_minute:0", limit: 100, expiresAt: Self.farFuture) == .admitted(count: 8))
        #expect(try await store.blockedUntil("block:w:ip", now: Self.epoch) == Self.farFuture)
        #expect(try await store.claimInterval("interval:w:ip", now: Self.epoch, interval: 2, expiresAt: Self.farFuture) == 2)
        // The conversation goes on after the migrated messages.
        try await store.appendMessage(StoredMessage(widgetId: DemoWidget.id, conversationId: "conversation-1", role: .user,
                                                    content: "fourth", domain: "customer.com", sourceIp: "203.0.113.9",
                                                    createdAt: Self.epoch.addingTimeInterval(10)))
        #expect(try await store.messages(widgetId: DemoWidget.id, conversationId: "conversation-1", limit: 2).map(\.content)
                == ["third", "fourth"])

        let database = try SQLiteDatabase(path: path)
        #expect(try database.query("PRAGMA user_version") == [[.integer(Int64(SchemaMigrations.latestVersion))]])
        #expect(try database.query("PRAGMA integrity_check") == [[.text("ok")]])
    }

    @Test("a file of each past layout ends with the layout of a new file", arguments: pastLayouts)
    func endsWithTheNewLayout(layout: PastLayout) throws {
        let migrated = try Self.file(in: layout)
        let created = DatabaseFiles.temporaryPath("new")
        defer {
            DatabaseFiles.remove(migrated)
            DatabaseFiles.remove(created)
        }
        _ = try SQLiteStore(.file(migrated))
        _ = try SQLiteStore(.file(created))
        #expect(try Self.layout(of: migrated) == Self.layout(of: created))
    }

    @Test("a new file is at the latest version, and opening it again changes nothing")
    func newFileIsCurrent() throws {
        let path = DatabaseFiles.temporaryPath("current")
        defer { DatabaseFiles.remove(path) }
        _ = try SQLiteStore(.file(path))
        let before = try Self.layout(of: path)
        _ = try SQLiteStore(.file(path))
        #expect(try Self.layout(of: path) == before)
        #expect(try SQLiteDatabase(path: path).query("PRAGMA user_version") == [[.integer(Int64(SchemaMigrations.latestVersion))]])
    }

    @Test("the history names each version up to the latest, in order")
    func historyIsNumbered() {
        #expect(SchemaMigrations.history.map(\.version) == Array(1...SchemaMigrations.latestVersion))
    }
}
