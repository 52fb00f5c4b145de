import Foundation
@testable import SQLiteStore
import Testing

/// Every chat message runs these statements. An `INSERT … SELECT` from the table it writes, a
/// `RETURNING`, or a `key IN (…)` list makes SQLite fill and free an ephemeral table on every run,
/// which cost the message insert a third of its time and the counters half of theirs.
@Suite("SQLite hot statements")
struct StatementShapeTests {
    @Test("a message insert, counter reads and counter upserts open no ephemeral table",
          arguments: [SQLiteStore.insertMessage] + SQLiteStore.readStatements + SQLiteStore.countStatements)
    func noEphemeralTable(_ sql: String) throws {
        let opcodes = try SQLiteDatabase.withStoreSchema().opcodes(sql)
        #expect(opcodes.contains("Halt"), "\(opcodes)")
        #expect(!opcodes.contains("OpenEphemeral"), "\(sql)")
    }

    @Test("a counter read looks each key up in the counters' own key order, never scanning the table")
    func counterReadsSeek() throws {
        let plan = try SQLiteDatabase.withStoreSchema().queryPlan(SQLiteStore.readStatements[3])
        #expect(plan.filter { $0.contains("SEARCH counters USING PRIMARY KEY (key=?)") }.count == 4, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(plan)")
    }
}
