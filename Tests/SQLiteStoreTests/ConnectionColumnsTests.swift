import Foundation
import Handlers
@testable import SQLiteStore
import Testing

/// Connection records moved from a JSON column to one column per field; `serve` reuses state files
/// that the previous version created, and other processes of that version may share them.
@Suite("SQLite connection columns")
struct ConnectionColumnsTests {
    static let record = ConnectionRecord(connectionId: "IU3kkeN4IAMCJwA=", widgetId: "widget_conn_000001", sessionId: "session-1",
                                         origin: "https://customer.com", sourceIp: "203.0.113.9", userAgent: nil, userId: "anonymous",
                                         connectedAt: Date(timeIntervalSince1970: 1_750_000_000),
                                         expiresAt: Date(timeIntervalSince1970: 1_750_010_800))

    /// A state file as the previous version left it: connections only as JSON.
    static func previousVersionFile(with record: ConnectionRecord) throws -> String {
        let path = DatabaseFiles.temporaryPath("previous")
        let database = try SQLiteDatabase(path: path)
        try database.execute("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE connections (connection_id TEXT PRIMARY KEY, expires_at REAL NOT NULL, json TEXT NOT NULL);
            """)
        try database.query("INSERT INTO connections (connection_id, expires_at, json) VALUES (?, ?, ?)",
                           [.text(record.connectionId), .real(record.expiresAt.timeIntervalSince1970),
                            .text(String(decoding: try StoreCoding.encoder.encode(record), as: UTF8.self))])
        return path
    }

    @Test("a connection stored by the previous version reads back equal after the columns are added")
    func previousVersionRowReadsBack() async throws {
        let path = try Self.previousVersionFile(with: Self.record)
        defer { DatabaseFiles.remove(path) }
        let store = try SQLiteStore(.file(path))
        #expect(try await store.connection(id: Self.record.connectionId) == Self.record)
        #expect(try await store.removeConnection(id: Self.record.connectionId) == Self.record)
    }

    @Test("a state file whose connection columns were already added opens again")
    func reopensMigratedFile() async throws {
        let path = try Self.previousVersionFile(with: Self.record)
        defer { DatabaseFiles.remove(path) }
        _ = try SQLiteStore(.file(path))
        let reopened = try SQLiteStore(.file(path))
        #expect(try await reopened.connection(id: Self.record.connectionId) == Self.record)
    }

    @Test("a connection stored now keeps its JSON column, which the previous version reads")
    func newRowKeepsJSON() async throws {
        let path = try Self.previousVersionFile(with: Self.record)
        defer { DatabaseFiles.remove(path) }
        var newer = Self.record
        newer.connectionId = "Zm9vYmFyYmF6cXU="
        try await SQLiteStore(.file(path)).putConnection(newer)
        let json = try SQLiteDatabase(path: path).query("SELECT json FROM connections WHERE connection_id = ?", [.text(newer.connectionId)])
        #expect(try StoreCoding.decoder.decode(ConnectionRecord.self, from: Data((json.first?[0].text ?? "").utf8)) == newer)
    }
}
