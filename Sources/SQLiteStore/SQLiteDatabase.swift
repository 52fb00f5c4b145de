import CSQLite
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value bound to or read from a statement.
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// An error reported by SQLite, with its message.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

/// One SQLite connection, owned by a mutex: the store's calls reach it through a `GroupCommitQueue`,
/// opening and migrations (before any call can run) directly. Prepared statements are cached per SQL text.
final class SQLiteDatabase: Sendable {
    /// The connection while its lock is held: what `withConnection` and `transaction` bodies run
    /// their statements on. Not copyable, and lent to a body only for its duration, so that no
    /// statement can run on it outside the lock. Sendable because it has a single owner at a time
    /// (the mutex, or the body it is lent to), which is all a `NOMUTEX` handle needs.
    struct Connection: ~Copyable, @unchecked Sendable {
        fileprivate let handle: OpaquePointer
        fileprivate var statements: [String: OpaquePointer] = [:]
        fileprivate let changes: TableChanges

        fileprivate init(handle: OpaquePointer, changes: TableChanges) {
            self.handle = handle
            self.changes = changes
        }

        /// What a row of `table` read now is read under; see `ReadStamp`.
        mutating func readStamp(of table: WatchedTable) throws -> ReadStamp {
            ReadStamp(dataVersion: try firstRow("PRAGMA data_version") { $0.integer(0) ?? 0 } ?? 0, ownChanges: changes.count(in: table))
        }

        /// Whether a transaction is open: false after SQLite rolled one back on its own (an I/O
        /// error, a full disk) under a statement that was meant to run inside it.
        var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

        /// Runs `sql` with `parameters` and returns every row as values (for cold paths: each row is
        /// an array and each text a `String`; hot queries read their columns in place with `rows`).
        @discardableResult
        mutating func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
            var result: [[SQLiteValue]] = []
            try rows(sql, parameters) { row in result.append(row.values) }
            return result
        }

        /// Runs `sql` with `parameters` and hands each row to `body`, which reads the columns it needs
        /// straight from SQLite's row buffer: no array per row, no value for a column it skips.
        mutating func rows(_ sql: String, _ parameters: [SQLiteValue] = [], _ body: (borrowing Row) throws -> Void) throws {
            try step(sql, parameters) { row in
                try body(row)
                return true
            }
        }

        /// Runs `sql` with `parameters` and returns `transform` of its first row, or nil when there is
        /// none. The statement is not stepped further: a DML statement with RETURNING makes all of its
        /// changes at the first step.
        mutating func firstRow<T>(_ sql: String, _ parameters: [SQLiteValue] = [],
                                  _ transform: (borrowing Row) throws -> T) throws -> T? {
            var result: T?
            try step(sql, parameters) { row in
                result = try transform(row)
                return false
            }
            return result
        }

        /// Steps the statement for `sql` while `body` returns true, then resets it. Its bindings are not
        /// cleared: every run binds each of the statement's parameters before stepping (NULL past the
        /// end of `parameters`, as a cleared binding would be), so `sqlite3_clear_bindings` is not
        /// needed, and the text bound in place by `bind` is never read once it has gone.
        private mutating func step(_ sql: String, _ parameters: [SQLiteValue], _ body: (borrowing Row) throws -> Bool) throws {
            let handle = handle
            let statement = try prepared(sql)
            defer { sqlite3_reset(statement) }
            let count = Int(sqlite3_bind_parameter_count(statement))
            if parameters.count < count {
                for index in parameters.count..<count { sqlite3_bind_null(statement, Int32(index + 1)) }
            }
            try Self.bind(parameters[...], to: statement) {
                let row = Row(statement: statement)
                while true {
                    let status = sqlite3_step(statement)
                    if status == SQLITE_DONE { return }
                    guard status == SQLITE_ROW else {
                        throw SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)))
                    }
                    if try !body(row) { return }
                }
            }
        }

        private mutating func prepared(_ sql: String) throws -> OpaquePointer {
            if let cached = statements[sql] { return cached }
            var prepared: OpaquePointer?
            let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard status == SQLITE_OK, let prepared else {
                throw SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)))
            }
            statements[sql] = prepared
            return prepared
        }

        /// Binds `parameters` in order and runs `body` while each bound text is still alive. Text is
        /// bound SQLITE_STATIC from the Swift string's own UTF-8, where SQLITE_TRANSIENT had SQLite
        /// allocate and copy every one (keys, ids and message bodies, on every statement); `body`
        /// steps the statement, and the pointers are left behind only in a statement that is reset.
        private static func bind(_ parameters: ArraySlice<SQLiteValue>, to statement: OpaquePointer,
                                 _ body: () throws -> Void) throws {
            guard let value = parameters.first else { return try body() }
            let index = Int32(parameters.startIndex + 1), rest = parameters.dropFirst()
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .integer(let number): sqlite3_bind_int64(statement, index, number)
            case .real(let number): sqlite3_bind_double(statement, index, number)
            case .text(var text):
                return try text.withUTF8 { utf8 in
                    if let start = utf8.baseAddress {
                        sqlite3_bind_text64(statement, index, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self),
                                            UInt64(utf8.count), nil, UInt8(SQLITE_UTF8))  // nil: SQLITE_STATIC
                    } else {
                        // An empty string may have no storage; a NULL pointer would bind NULL, not ''.
                        sqlite3_bind_text(statement, index, "", 0, transientDestructor)
                    }
                    try bind(rest, to: statement, body)
                }
            }
            try bind(rest, to: statement, body)
        }
    }

    /// The current row of a statement being stepped, read in place. Valid only inside the closure it
    /// is lent to (SQLite reuses the row's memory at the next step); being borrowed and not copyable,
    /// it cannot be kept. Columns count from 0.
    struct Row: ~Copyable {
        fileprivate let statement: OpaquePointer

        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

        /// The column as an integer (a real is truncated), or nil when it is NULL.
        func integer(_ column: Int32) -> Int64? {
            isNull(column) ? nil : sqlite3_column_int64(statement, column)
        }

        /// The column as a real, or nil when it is NULL.
        func real(_ column: Int32) -> Double? {
            isNull(column) ? nil : sqlite3_column_double(statement, column)
        }

        /// The column as text, or nil when it is NULL. Its length comes from SQLite, which knows it,
        /// rather than from `strlen` as `String(cString:)` would find it.
        func text(_ column: Int32) -> String? {
            guard let utf8 = utf8(column) else { return nil }
            return String(decoding: utf8, as: UTF8.self)
        }

        /// The column as text, sharing `candidate`'s storage when the bytes are the same: consecutive
        /// rows often repeat a value (a conversation's domain and client address), and a string of more
        /// than 15 bytes would otherwise be allocated again for each. Shorter ones are stored inline in
        /// the `String` itself, so they are not compared.
        func text(_ column: Int32, reusing candidate: String?) -> String? {
            guard let utf8 = utf8(column) else { return nil }
            if utf8.count > 15, var candidate, candidate.withUTF8({ Self.equal($0, utf8) }) { return candidate }
            return String(decoding: utf8, as: UTF8.self)
        }

        /// Whether the column is text with exactly the bytes of `literal`, compared without making a
        /// `String` of it.
        func text(_ column: Int32, equals literal: StaticString) -> Bool {
            guard let utf8 = utf8(column), utf8.count == literal.utf8CodeUnitCount else { return false }
            return Self.equal(utf8, UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }

        /// Byte equality with `memcmp`, which the generic `elementsEqual` loop does not become.
        private static func equal(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
            guard lhs.count == rhs.count else { return false }
            guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return true }
            return memcmp(left, right, lhs.count) == 0
        }

        /// Every column as a value.
        var values: [SQLiteValue] {
            (0..<sqlite3_column_count(statement)).map { column in
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
                case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
                case SQLITE_NULL: .null
                default: .text(text(column) ?? "")
                }
            }
        }

        /// The column's UTF-8 bytes, valid until the next step; nil when it is NULL.
        private func utf8(_ column: Int32) -> UnsafeBufferPointer<UInt8>? {
            // `sqlite3_column_text` first (it may convert the value), then the byte count of the result.
            guard let text = sqlite3_column_text(statement, column) else { return nil }
            return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column)))
        }
    }

    private let state: Mutex<Connection>
    /// Where this connection's WAL checkpoints run, when not inside its own commits.
    let checkpointer: BackgroundCheckpointer?

    /// Opens `path`, or a private in-memory database for `":memory:"`; with `checkpointInBackground`,
    /// a second connection to the same file checkpoints the WAL off this one's commits.
    init(path: String, checkpointInBackground: Bool = false) throws {
        Self.configureProcess
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: status, message: message)
        }
        sqlite3_busy_timeout(handle, 5000)
        do {
            checkpointer = checkpointInBackground ? try BackgroundCheckpointer(path: path) : nil
        } catch {
            sqlite3_close_v2(handle)
            throw error
        }
        checkpointer?.install(on: handle)
        let changes = TableChanges()
        changes.install(on: handle)
        state = Mutex(Connection(handle: handle, changes: changes))
    }

    /// Turns SQLite's memory statistics off, once per process and before its first connection opens
    /// (SQLite takes no configuration after that): they make every allocation and free that SQLite
    /// makes — and Debian's build, without the lookaside allocator, sends each small one to malloc —
    /// take a global mutex to keep counters nothing here reads.
    private static let configureProcess: Void = {
        _ = csqlite_disable_memory_statistics()
    }()

    deinit {
        state.withLock { state in
            for statement in state.statements.values { sqlite3_finalize(statement) }
            sqlite3_close_v2(state.handle)
        }
    }

    /// Runs one or more statements that take no parameters (schema, pragmas).
    func execute(_ sql: String) throws {
        try state.withLock { state in
            var error: UnsafeMutablePointer<CChar>?
            let status = sqlite3_exec(state.handle, sql, nil, nil, &error)
            if status != SQLITE_OK {
                let message = error.map { String(cString: $0) } ?? "unknown"
                sqlite3_free(error)
                throw SQLiteError(code: status, message: message)
            }
        }
    }

    /// Runs `body` on the connection, holding the lock; each statement commits on its own.
    func withConnection<T: Sendable, E: Error>(_ body: (inout Connection) throws(E) -> T) throws(E) -> T {
        try state.withLock { (connection) throws(E) -> T in try body(&connection) }
    }

    /// Runs `migration` in one transaction when `needed` says the file wants it, asking again inside
    /// the transaction: a file that needs nothing (every open but the first) is only read and takes
    /// no write lock, and of several processes opening a file at once only the first migrates it.
    func migrate(ifNeeded needed: (inout Connection) throws -> Bool, _ migration: (inout Connection) throws -> Void) throws {
        guard try withConnection({ connection in try needed(&connection) }) else { return }
        try transaction { connection in
            if try needed(&connection) { try migration(&connection) }
        }
    }

    /// Runs `body` inside one transaction holding the lock, so that its statements are atomic together.
    func transaction<T: Sendable>(_ body: (inout Connection) throws -> T) throws -> T {
        try state.withLock { connection in
            try connection.query("BEGIN IMMEDIATE")
            do {
                let result = try body(&connection)
                try connection.query("COMMIT")
                return result
            } catch {
                _ = try? connection.query("ROLLBACK")
                throw error
            }
        }
    }
}

/// SQLite's SQLITE_TRANSIENT: makes SQLite copy bound text before the Swift string goes away.
private let transientDestructor = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

extension SQLiteValue {
    var text: String? { if case .text(let value) = self { value } else { nil } }
    var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .real(let value): Int64(value)
        default: nil
        }
    }
    var real: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
}
