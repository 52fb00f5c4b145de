import CSQLite
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The tables whose rows the store keeps between reads: every chat message reads its widget and
/// every `sendMessage` its connection, though either changes only when an admin edits the widget or
/// the client connects and disconnects.
enum WatchedTable: CaseIterable, Sendable {
    case widgets
    case connections

    /// SQLite's name of the table, as its update hook reports it.
    var name: StaticString {
        switch self {
        case .widgets: "widgets"
        case .connections: "connections"
        }
    }
}

/// When a row of a watched table was read, as far as a later read can tell: the file's
/// `PRAGMA data_version`, which moves when any other connection (another process, another store on
/// the same file) commits, and how many rows this connection itself has changed in the table, which
/// that pragma leaves out. A row read under one stamp is still the row while the stamp is unchanged.
struct ReadStamp: Equatable, Sendable {
    var dataVersion: Int64
    var ownChanges: UInt64
}

/// Counts the rows one connection changes in each watched table, through SQLite's update hook, so
/// that no write path can forget to invalidate what the store keeps: every `INSERT`, `UPDATE` and
/// `DELETE` on the connection is seen, whichever statement made it. The hook does not see tables
/// stored `WITHOUT ROWID`, nor deletions by the truncate optimisation (`DELETE` with no `WHERE`);
/// watched tables are rowid tables, which a test checks, and are never emptied that way.
///
/// A rolled-back transaction counts as a change of every watched table: a read in a group commit's
/// batch sees the writes of the calls before it, and keeps what it read under a stamp that would
/// otherwise still hold once a failed commit has undone those writes. (`ROLLBACK TO` a call's
/// savepoint needs nothing: it undoes writes that no earlier call read, and later calls read the
/// state it leaves.)
final class TableChanges: Sendable {
    private let widgets = Atomic<UInt64>(0)
    private let connections = Atomic<UInt64>(0)

    /// The changes counted so far in `table`. Relaxed ordering suffices: the hook and the reads both
    /// run while the connection's lock is held, which orders them.
    func count(in table: WatchedTable) -> UInt64 {
        switch table {
        case .widgets: widgets.load(ordering: .relaxed)
        case .connections: connections.load(ordering: .relaxed)
        }
    }

    fileprivate func rolledBack() {
        widgets.add(1, ordering: .relaxed)
        connections.add(1, ordering: .relaxed)
    }

    fileprivate func changed(table name: UnsafePointer<CChar>) {
        for table in WatchedTable.allCases where strcmp(name, UnsafeRawPointer(table.name.utf8Start).assumingMemoryBound(to: CChar.self)) == 0 {
            switch table {
            case .widgets: widgets.add(1, ordering: .relaxed)
            case .connections: connections.add(1, ordering: .relaxed)
            }
        }
    }

    /// Counts the row changes and rollbacks of `handle`, which must be closed before these counters are released.
    func install(on handle: OpaquePointer) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_update_hook(handle, { context, _, _, table, _ in
            if let context, let table { Unmanaged<TableChanges>.fromOpaque(context).takeUnretainedValue().changed(table: table) }
        }, context)
        sqlite3_rollback_hook(handle, { context in
            if let context { Unmanaged<TableChanges>.fromOpaque(context).takeUnretainedValue().rolledBack() }
        }, context)
    }
}
