import Foundation
import Handlers
@testable import SQLiteStore
import Testing

/// The store keeps the widget and connection rows it reads (every message needs one of each) and
/// reads a row again whenever its table may have changed: a deactivated widget or a removed
/// connection must never be served from what was kept, whoever changed it.
@Suite("SQLite kept widget and connection rows")
struct KeptRowsTests {
    static let widget = WidgetConfig(widgetId: "widget_kept_000001", name: "Kept", allowedDomains: ["customer.com"],
                                      createdAt: Date(timeIntervalSince1970: 1_750_000_000))
    static let connection = ConnectionRecord(connectionId: "S2VwdFJvd3NUZXN0", widgetId: widget.widgetId, sessionId: "session-1",
                                             origin: "https://customer.com", sourceIp: "203.0.113.9", userAgent: nil, userId: "anonymous",
                                             connectedAt: Date(timeIntervalSince1970: 1_750_000_000),
                                             expiresAt: Date(timeIntervalSince1970: 1_750_000_600))

    @Test("a widget another store on the same file deactivates reads as inactive on the next read")
    func widgetDeactivatedByAnotherStore() async throws {
        let path = DatabaseFiles.temporaryPath("kept")
        defer { DatabaseFiles.remove(path) }
        let serving = try SQLiteStore(.file(path))
        try await serving.putWidget(Self.widget)
        #expect(try await serving.widget(id: Self.widget.widgetId)?.isActive == true)

        var inactive = Self.widget
        inactive.isActive = false
        try await SQLiteStore(.file(path)).putWidget(inactive)
        #expect(try await serving.widget(id: Self.widget.widgetId)?.isActive == false)
    }

    @Test("a widget row rewritten by a plain SQL connection (another process) is read anew")
    func widgetRewrittenOutsideTheStore() async throws {
        let path = DatabaseFiles.temporaryPath("kept")
        defer { DatabaseFiles.remove(path) }
        let serving = try SQLiteStore(.file(path))
        try await serving.putWidget(Self.widget)
        #expect(try await serving.widget(id: Self.widget.widgetId)?.name == "Kept")

        var renamed = Self.widget
        renamed.name = "Renamed"
        try SQLiteDatabase(path: path).query("UPDATE widgets SET json = ? WHERE widget_id = ?",
                                             [.text(String(decoding: try StoreCoding.encoder.encode(renamed), as: UTF8.self)),
                                              .text(Self.widget.widgetId)])
        #expect(try await serving.widget(id: Self.widget.widgetId)?.name == "Renamed")
    }

    @Test("a connection the store's own retention purge deletes reads as gone")
    func connectionPurgedBySameStore() async throws {
        let store = try SQLiteStore(.inMemory)
        try await store.putConnection(Self.connection)
        #expect(try await store.connection(id: Self.connection.connectionId) == Self.connection)

        _ = try await store.purge(before: Self.connection.connectedAt, now: Self.connection.expiresAt.addingTimeInterval(1))
        #expect(try await store.connection(id: Self.connection.connectionId) == nil)
    }

    @Test("a connection deleted by another store on the same file reads as gone")
    func connectionRemovedByAnotherStore() async throws {
        let path = DatabaseFiles.temporaryPath("kept")
        defer { DatabaseFiles.remove(path) }
        let serving = try SQLiteStore(.file(path))
        try await serving.putConnection(Self.connection)
        #expect(try await serving.connection(id: Self.connection.connectionId) == Self.connection)

        #expect(try await SQLiteStore(.file(path)).removeConnection(id: Self.connection.connectionId) == Self.connection)
        #expect(try await serving.connection(id: Self.connection.connectionId) == nil)
    }

    @Test("any statement on the connection that changes a watched table moves that table's stamp, and only that table's",
          arguments: WatchedTable.allCases)
    func ownChangesMoveTheStamp(table: WatchedTable) throws {
        // The update hook does not report tables stored WITHOUT ROWID: this fails if a watched table becomes one.
        let database = try SQLiteDatabase.withStoreSchema()
        let statements: [WatchedTable: String] = [
            .widgets: "INSERT INTO widgets (widget_id, is_active, json) VALUES ('w', 1, '{}')",
            .connections: "INSERT INTO connections (connection_id, expires_at, json) VALUES ('c', 0, '{}')",
        ]
        let before = try database.withConnection { connection in
            try WatchedTable.allCases.map { try connection.readStamp(of: $0) }
        }
        try database.query(try #require(statements[table]))
        try database.query("INSERT INTO counters (key, count, expires_at) VALUES ('k', 1, 0)")
        let after = try database.withConnection { connection in
            try WatchedTable.allCases.map { try connection.readStamp(of: $0) }
        }
        for (index, watched) in WatchedTable.allCases.enumerated() {
            #expect((before[index] != after[index]) == (watched == table), "\(watched)")
        }
    }

    @Test("a rolled-back transaction moves every watched table's stamp: what was read inside it may be undone")
    func rollbackMovesTheStamp() throws {
        let database = try SQLiteDatabase.withStoreSchema()
        let (inside, after) = try database.withConnection { connection in
            try connection.query("BEGIN IMMEDIATE")
            try connection.query("INSERT INTO widgets (widget_id, is_active, json) VALUES ('w', 1, '{}')")
            let inside = try WatchedTable.allCases.map { try connection.readStamp(of: $0) }
            try connection.query("ROLLBACK")
            return (inside, try WatchedTable.allCases.map { try connection.readStamp(of: $0) })
        }
        for (index, table) in WatchedTable.allCases.enumerated() {
            #expect(inside[index] != after[index], "\(table)")
        }
    }
}
