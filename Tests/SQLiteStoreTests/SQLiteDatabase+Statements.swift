@testable import SQLiteStore

/// One statement at a time on a database the tests own: what the store does through its
/// `GroupCommitQueue`, run directly on the connection.
extension SQLiteDatabase {
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
