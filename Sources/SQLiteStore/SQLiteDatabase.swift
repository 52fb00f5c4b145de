import CSQLite
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

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

/// One SQLite connection used synchronously behind a mutex. Calls take microseconds, so holding the
/// lock is cheaper than hopping threads; prepared statements are cached per SQL text.
final class SQLiteDatabase: Sendable {
    private struct State: ~Copyable {
        var handle: OpaquePointer
        var statements: [String: OpaquePointer] = [:]
    }

    private let state: Mutex<State>
    /// Where this connection's WAL checkpoints run, when not inside its own commits.
    let checkpointer: BackgroundCheckpointer?

    /// Opens `path`, or a private in-memory database for `":memory:"`; with `checkpointInBackground`,
    /// a second connection to the same file checkpoints the WAL off this one's commits.
    init(path: String, checkpointInBackground: Bool = false) throws {
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
        state = Mutex(State(handle: handle))
    }

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

    /// Runs `sql` with `parameters` and returns every row.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        try state.withLock { state in try Self.run(sql, parameters, in: &state) }
    }

    /// Runs a statement with its parameters and returns every row: `query(_:_:)`, or the same inside a transaction.
    typealias Query = (String, [SQLiteValue]) throws -> [[SQLiteValue]]

    /// Runs `body` inside one transaction holding the lock, so that its statements are atomic together.
    func transaction<T>(_ body: (_ query: Query) throws -> T) throws -> T {
        try state.withLock { state in
            _ = try Self.run("BEGIN IMMEDIATE", [], in: &state)
            do {
                let result = try body { sql, parameters in try Self.run(sql, parameters, in: &state) }
                _ = try Self.run("COMMIT", [], in: &state)
                return result
            } catch {
                _ = try? Self.run("ROLLBACK", [], in: &state)
                throw error
            }
        }
    }

    private static func run(_ sql: String, _ parameters: [SQLiteValue], in state: inout State) throws -> [[SQLiteValue]] {
        let handle = state.handle
        let statement: OpaquePointer
        if let cached = state.statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard status == SQLITE_OK, let prepared else {
                throw SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)))
            }
            state.statements[sql] = prepared
            statement = prepared
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .integer(let number): sqlite3_bind_int64(statement, index, number)
            case .real(let number): sqlite3_bind_double(statement, index, number)
            case .text(let text): sqlite3_bind_text(statement, index, text, -1, transientDestructor)
            }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else {
                throw SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)))
            }
            let columns = sqlite3_column_count(statement)
            rows.append((0..<columns).map { column in
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
                case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
                case SQLITE_NULL: .null
                default: .text(sqlite3_column_text(statement, column).map { String(cString: $0) } ?? "")
                }
            })
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
