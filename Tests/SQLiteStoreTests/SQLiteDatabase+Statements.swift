@testable import SQLiteStore

/// One statement at a time on a database the tests own: what the store does through its
/// `GroupCommitQueue`, run directly on the connection.
extension SQLiteDatabase {
    /// A private in-memory database holding the store's schema, for reading SQLite's plans of the
    /// store's statements.
    static func withStoreSchema() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute(SQLiteStore.schema)
        return database
    }

    /// SQLite's query plan for `sql`, one line per step.
    func queryPlan(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [String] {
        try query("EXPLAIN QUERY PLAN " + sql, parameters).compactMap { $0.last?.text }
    }

    /// The opcodes of the program SQLite compiles `sql` to.
    func opcodes(_ sql: String) throws -> [String] {
        try query("EXPLAIN " + sql).compactMap { $0[1].text }
    }

    /// `Connection.query` on the connection.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        try withConnection { connection in try connection.query(sql, parameters) }
    }

    /// `Connection.firstRow` on the connection: a single-row read or a RETURNING, mapped in place.
    func firstRow<T: Sendable>(_ sql: String, _ parameters: [SQLiteValue] = [], _ transform: (borrowing Row) throws -> T) throws -> T? {
        try withConnection { connection in try connection.firstRow(sql, parameters, transform) }
    }
}
