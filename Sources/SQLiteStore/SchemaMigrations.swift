/// The state file's layout changes, numbered; `PRAGMA user_version` records the last one a file has.
///
/// How a file is brought up to date when a store opens it (`SQLiteStore.init`):
/// 1. The numbered migrations above the file's `user_version` run, in order, in one transaction,
///    which also sets `user_version` to `latestVersion`. A file that is up to date is only read:
///    opening it takes no write lock. Of several processes opening a file at once, the first to
///    take the lock migrates it; the others find it done.
/// 2. `SQLiteStore.schema` creates the tables and indexes that do not exist yet (all of them, in a
///    new file).
/// 3. `SQLiteStore.fillSecurityEventDomains` repairs the rows an earlier version may still write
///    into a shared file.
///
/// Files written before versions were recorded have `user_version` 0 whatever their layout, so
/// each migration up to 3 checks what the file lacks before it changes anything. A new table or
/// index goes into `SQLiteStore.schema` alone, and so does dropping an index that an earlier
/// version sharing the file may create again (`messages_by_time`). Any other change to an existing
/// table (a column, a rewrite, a data fill) is a new migration numbered `latestVersion + 1`, with a
/// past layout in `SchemaMigrationTests`, whose tests open a file of each earlier layout.
enum SchemaMigrations {
    /// What each version changed, in order: `(version, what the migration to it does)`.
    static let history: [(version: Int32, summary: String)] = [
        (1, "messages, counters, intervals and blocks stored in key order (WITHOUT ROWID)"),
        (2, "security events keep their domain in a column, indexed instead of json_extract(json, '$.domain')"),
        (3, "connections keep their fields in columns beside the JSON"),
    ]

    static let latestVersion: Int32 = 3

    /// Brings `database` to `latestVersion` (step 1 above).
    static func migrate(_ database: SQLiteDatabase) throws {
        try database.migrate(ifNeeded: { db in try userVersion(of: &db) < latestVersion }) { db in
            let version = try userVersion(of: &db)
            if version < 1 { try clusterTablesByKey(&db) }
            if version < 2 { try addSecurityEventDomainColumn(&db) }
            if version < 3 { try addConnectionColumns(&db) }
            try db.query("PRAGMA user_version = \(latestVersion)")
        }
    }

    static func userVersion(of db: inout SQLiteDatabase.Connection) throws -> Int32 {
        Int32(truncatingIfNeeded: try db.firstRow("PRAGMA user_version", [], { $0.integer(0) }).flatMap { $0 } ?? 0)
    }

    // MARK: 1

    /// Rewrites each of `SQLiteStore.clusteredTables` that a file stores by rowid, keeping every row
    /// (a message keeps its old id: ids were unique and increasing, so they still order each
    /// conversation). A process of an earlier version still reads the rewritten tables, but cannot
    /// add messages.
    private static func clusterTablesByKey(_ db: inout SQLiteDatabase.Connection) throws {
        for table in try tablesStoredByRowid(in: &db) {
            try db.query("CREATE TABLE \(table.name)_clustered \(table.definition)")
            try db.query("INSERT INTO \(table.name)_clustered (\(table.columns)) SELECT \(table.columns) FROM \(table.name)")
            try db.query("DROP TABLE \(table.name)")
            try db.query("ALTER TABLE \(table.name)_clustered RENAME TO \(table.name)")
        }
    }

    /// The tables of `SQLiteStore.clusteredTables` that exist and are stored by rowid.
    private static func tablesStoredByRowid(in db: inout SQLiteDatabase.Connection) throws
        -> [(name: String, definition: String, columns: String)] {
        try SQLiteStore.clusteredTables.filter { table in
            guard let definition = try db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                                [.text(table.name)]).first?[0].text else { return false }
            return !definition.uppercased().contains("WITHOUT ROWID")
        }
    }

    // MARK: 2

    /// Gives the security events their `domain` column, replacing the index on
    /// `json_extract(json, '$.domain')`, which parsed every event's JSON again as it was inserted.
    /// The column is filled by `SQLiteStore.fillSecurityEventDomains`; the index over it is in the schema.
    private static func addSecurityEventDomainColumn(_ db: inout SQLiteDatabase.Connection) throws {
        let columns = try columns(of: "security_events", in: &db)
        guard !columns.isEmpty, !columns.contains("domain") else { return }
        try db.query("DROP INDEX IF EXISTS security_events_by_domain")
        try db.query("ALTER TABLE security_events ADD COLUMN domain TEXT")
    }

    // MARK: 3

    /// Adds `SQLiteStore.connectionColumns` that the connections table lacks.
    private static func addConnectionColumns(_ db: inout SQLiteDatabase.Connection) throws {
        let existing = try columns(of: "connections", in: &db)
        guard !existing.isEmpty else { return }
        for column in SQLiteStore.connectionColumns where !existing.contains(String(column.prefix { $0 != " " })) {
            try db.query("ALTER TABLE connections ADD COLUMN \(column)")
        }
    }

    /// The names of `table`'s columns; none when there is no such table.
    private static func columns(of table: String, in db: inout SQLiteDatabase.Connection) throws -> Set<String> {
        Set(try db.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0[0].text })
    }
}
