import CSQLite
import Foundation
import Handlers
@testable import SQLiteStore
import Testing

/// Every process that serves from a state file opens it: the stage, each `bootstrap` of
/// `--runtime bootstrap`, each admin command. Opening a file that is already up to date must not
/// need the write lock, which a busy stage hands from one transaction to the next.
@Suite("SQLite store opening")
struct OpeningTests {
    @Test("an up-to-date state file opens while another connection holds the write lock")
    func opensUnderAnotherWriter() async throws {
        let path = DatabaseFiles.temporaryPath("opening")
        defer { DatabaseFiles.remove(path) }
        try await SQLiteStore(.file(path)).putWidget(DemoWidget.make(createdAt: Date(timeIntervalSince1970: 1_750_000_000)))
        let writer = try SQLiteDatabase(path: path)
        try writer.execute("BEGIN IMMEDIATE")
        defer { try? writer.execute("COMMIT") }
        let reopened = try SQLiteStore(.file(path))
        #expect(try await reopened.widget(id: DemoWidget.id)?.widgetId == DemoWidget.id)
    }

    @Test("SQLite keeps no memory statistics once a database has been opened: its allocations take no global lock")
    func memoryStatisticsAreOff() async throws {
        let store = try SQLiteStore(.inMemory)
        try await store.putWidget(DemoWidget.make(createdAt: Date(timeIntervalSince1970: 1_750_000_000)))
        var current: Int64 = 0, highest: Int64 = 0
        #expect(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &current, &highest, 0) == SQLITE_OK)
        #expect(current == 0 && highest == 0)
    }
}
