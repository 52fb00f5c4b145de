#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Handlers

/// The embedded store: one SQLite file in WAL mode (surviving restarts), or a private in-memory
/// database for tests and replay. Counters are single conditional upserts, atomic across
/// connections and processes sharing the file.
public final class SQLiteStore: Store {
    private let database: SQLiteDatabase
    /// Every store call goes through here: one at a time on the connection, concurrent writes in one commit.
    private let calls: GroupCommitQueue
    /// Widgets and connections as last read, with the stamp they were read under: a chat message
    /// needs its widget and a `sendMessage` its connection every time, but reads the row again only
    /// when the table may have changed since (`ReadStamp`) — on this connection, or by any other.
    private let widgets = DerivedValueCache<ReadStamp, WidgetConfig?>(capacity: 256)
    private let connections = DerivedValueCache<ReadStamp, ConnectionRecord?>(capacity: 4096)

    /// Where the data lives.
    public enum Location: Sendable {
        case file(String)
        case inMemory
    }

    public init(_ location: Location) throws {
        switch location {
        case .inMemory:
            database = try SQLiteDatabase(path: ":memory:")
        case .file(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            database = try SQLiteDatabase(path: path, checkpointInBackground: true)
            try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        }
        calls = GroupCommitQueue(database)
        try SchemaMigrations.migrate(database)
        try database.execute(Self.schema)
        try fillSecurityEventDomains()
    }

    /// Tables read on every chat message are stored in their key's order (`WITHOUT ROWID`): a
    /// conversation's messages sit together in the table itself, so its history is one range scan
    /// rather than an index scan plus a table lookup per message, and an insert updates one B-tree
    /// fewer. A message's `id` counts within its conversation.
    ///
    /// Messages have one secondary index, by domain and time, serving both admin reads: the GDPR
    /// export (one domain's range) and the retention purge (each domain's oldest range, found by
    /// skipping from domain to domain: `purgeMessages`). Every chat turn inserts two messages, and each
    /// index costs a B-tree insert and a WAL page per insert; the index by time alone that the purge
    /// once had is dropped at every open, from files that earlier versions indexed (and may index again).
    static let clusteredTables: [(name: String, definition: String, columns: String)] = [
        ("messages", """
            (widget_id TEXT NOT NULL, conversation_id TEXT NOT NULL, id INTEGER NOT NULL, role TEXT NOT NULL,
             content TEXT NOT NULL, domain TEXT, source_ip TEXT, created_at REAL NOT NULL,
             PRIMARY KEY (widget_id, conversation_id, id)) WITHOUT ROWID
            """, "widget_id, conversation_id, id, role, content, domain, source_ip, created_at"),
        ("counters", "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID", "key, count, expires_at"),
        ("intervals", "(key TEXT PRIMARY KEY, last_at REAL NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID", "key, last_at, expires_at"),
        ("blocks", "(key TEXT PRIMARY KEY, until REAL NOT NULL) WITHOUT ROWID", "key, until"),
    ]

    static let schema = clusteredTables.map { "CREATE TABLE IF NOT EXISTS \($0.name) \($0.definition);\n" }.joined() + """
        CREATE TABLE IF NOT EXISTS widgets (widget_id TEXT PRIMARY KEY, is_active INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS widget_domains (domain TEXT NOT NULL, widget_id TEXT NOT NULL, PRIMARY KEY (domain, widget_id));
        CREATE TABLE IF NOT EXISTS connections (
            connection_id TEXT PRIMARY KEY, expires_at REAL NOT NULL, json TEXT NOT NULL, \(connectionColumns.joined(separator: ", ")));
        DROP INDEX IF EXISTS messages_by_time;
        CREATE INDEX IF NOT EXISTS messages_by_domain_and_time ON messages (domain, created_at);
        CREATE TABLE IF NOT EXISTS security_events (
            id TEXT PRIMARY KEY, type TEXT NOT NULL, widget_id TEXT, created_at REAL NOT NULL, json TEXT NOT NULL, domain TEXT);
        CREATE INDEX IF NOT EXISTS security_events_by_time ON security_events (created_at);
        CREATE INDEX IF NOT EXISTS security_events_by_type ON security_events (type, created_at, id);
        CREATE INDEX IF NOT EXISTS security_events_by_widget ON security_events (widget_id, created_at, id);
        CREATE INDEX IF NOT EXISTS security_events_by_domain ON security_events (domain, created_at, id);
        CREATE TABLE IF NOT EXISTS usage_daily (
            day TEXT NOT NULL, widget_id TEXT NOT NULL, domain TEXT NOT NULL,
            messages INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, widget_id, domain));
        """

    private func json<T: Encodable>(_ value: T) throws -> SQLiteValue {
        .text(String(decoding: try StoreCoding.encoder.encode(value), as: UTF8.self))
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T {
        try StoreCoding.decoder.decode(type, from: Data((text ?? "").utf8))
    }

    // MARK: Widgets

    public func widget(id: String) async throws -> WidgetConfig? {
        try await calls.read { [widgets] db in
            try Self.row(id, of: .widgets, keptIn: widgets, on: &db) { db in
                try db.firstRow("SELECT json FROM widgets WHERE widget_id = ?", [.text(id)]) { try Self.decode(WidgetConfig.self, $0.text(0)) }
            }
        }
    }

    /// The row under `id` in `table` as `kept` holds it from a read under the current stamp, or as
    /// `read` reads it now (and `kept` then holds it).
    private static func row<Row: Sendable>(_ id: String, of table: WatchedTable, keptIn kept: DerivedValueCache<ReadStamp, Row?>,
                                           on db: inout SQLiteDatabase.Connection,
                                           read: (inout SQLiteDatabase.Connection) throws -> Row?) throws -> Row? {
        let stamp = try db.readStamp(of: table)
        return try kept.value(for: id, source: stamp) { _ in try read(&db) }
    }

    public func putWidget(_ widget: WidgetConfig) async throws {
        let body = try json(widget)
        let domains = Set(widget.allowedDomains.compactMap(AllowedDomain.init).map(\.host))
        try await calls.write { db in
            try db.query("INSERT INTO widgets (widget_id, is_active, json) VALUES (?, ?, ?) ON CONFLICT(widget_id) DO UPDATE SET is_active = excluded.is_active, json = excluded.json",
                          [.text(widget.widgetId), .integer(widget.isActive ? 1 : 0), body])
            try db.query("DELETE FROM widget_domains WHERE widget_id = ?", [.text(widget.widgetId)])
            for domain in domains.sorted() {
                try db.query("INSERT INTO widget_domains (domain, widget_id) VALUES (?, ?)", [.text(domain), .text(widget.widgetId)])
            }
        }
    }

    public func widgets(after cursor: String?, limit: Int) async throws -> [WidgetConfig] {
        try await calls.read { db in
            try db.query("SELECT json FROM widgets WHERE widget_id > ? ORDER BY widget_id LIMIT ?",
                         [.text(cursor ?? ""), .integer(Int64(max(0, limit)))])
        }
            .map { try Self.decode(WidgetConfig.self, $0[0].text) }
    }

    public func activeWidgetAllows(domain: String) async throws -> Bool {
        try await calls.read { db in
            try db.firstRow("""
                SELECT 1 FROM widget_domains d JOIN widgets w ON w.widget_id = d.widget_id
                WHERE d.domain = ? AND w.is_active = 1 LIMIT 1
                """, [.text(domain)], { _ in true }) ?? false
        }
    }

    // MARK: Connections

    /// A connection's fields as columns, read on every `sendMessage` without decoding JSON. The
    /// `json` column is still written, so that a previous version sharing the file can read the
    /// record; rows that only have it (written before these columns, or by that version) are decoded.
    static let connectionColumns = [
        "widget_id TEXT", "session_id TEXT", "origin TEXT", "source_ip TEXT", "user_agent TEXT", "user_id TEXT", "connected_at REAL",
    ]

    /// Fills the `domain` of every event that lacks it: those of a file this version opens for the
    /// first time, and those an earlier version sharing the file recorded since (it leaves the column
    /// NULL). Finding none is one seek on `security_events_by_domain`, where NULLs sort first.
    func fillSecurityEventDomains() throws {
        try database.migrate(ifNeeded: { db in
            try db.firstRow("SELECT 1 FROM security_events WHERE domain IS NULL LIMIT 1", [], { _ in true }) != nil
        }) { db in
            try db.query("UPDATE security_events SET domain = coalesce(json_extract(json, '$.domain'), '') WHERE domain IS NULL")
        }
    }

    public func putConnection(_ connection: ConnectionRecord) async throws {
        let parameters: [SQLiteValue] = [
            .text(connection.connectionId), .real(connection.expiresAt.timeIntervalSince1970), try json(connection),
            .text(connection.widgetId), .text(connection.sessionId), connection.origin.map(SQLiteValue.text) ?? .null,
            .text(connection.sourceIp), connection.userAgent.map(SQLiteValue.text) ?? .null, .text(connection.userId),
            .real(connection.connectedAt.timeIntervalSince1970)]
        try await calls.write { db in
            try db.query("""
                INSERT OR REPLACE INTO connections (connection_id, expires_at, json, widget_id, session_id, origin, source_ip,
                                                    user_agent, user_id, connected_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, parameters)
        }
    }

    public func connection(id: String) async throws -> ConnectionRecord? {
        try await calls.read { [connections] db in
            try Self.row(id, of: .connections, keptIn: connections, on: &db) { db in
                try db.firstRow("SELECT \(Self.connectionRecord) FROM connections WHERE connection_id = ?", [.text(id)]) {
                    try Self.connection(id, $0)
                }
            }
        }
    }

    public func removeConnection(id: String) async throws -> ConnectionRecord? {
        try await calls.write { db in
            try db.firstRow("DELETE FROM connections WHERE connection_id = ? RETURNING \(Self.connectionRecord)", [.text(id)]) {
                try Self.connection(id, $0)
            }
        }
    }

    /// The columns `connection(_:_:)` reads; `json` only for a row without the connection columns.
    private static let connectionRecord =
        "widget_id, session_id, origin, source_ip, user_agent, user_id, connected_at, expires_at, CASE WHEN widget_id IS NULL THEN json END"

    private static func connection(_ id: String, _ row: borrowing SQLiteDatabase.Row) throws -> ConnectionRecord {
        guard let widgetId = row.text(0) else { return try decode(ConnectionRecord.self, row.text(8)) }
        return ConnectionRecord(connectionId: id, widgetId: widgetId, sessionId: row.text(1) ?? "", origin: row.text(2),
                                sourceIp: row.text(3) ?? "", userAgent: row.text(4), userId: row.text(5) ?? "",
                                connectedAt: Date(timeIntervalSince1970: row.real(6) ?? 0),
                                expiresAt: Date(timeIntervalSince1970: row.real(7) ?? 0))
    }

    // MARK: Conversations

    public func appendMessage(_ message: StoredMessage) async throws {
        try await calls.write { db in try Self.insert(message, into: &db) }
    }

    public func messages(widgetId: String, conversationId: String, limit: Int) async throws -> [StoredMessage] {
        try await calls.read { db in try Self.messages(widgetId: widgetId, conversationId: conversationId, limit: limit, in: &db) }
    }

    /// The next `id` is the conversation's last one plus one, read by a scalar subquery inside
    /// `VALUES`: the `INSERT … SELECT max(id) FROM messages` form this replaced reads the table it
    /// writes, so SQLite first copied its one row into an ephemeral table (opened, filled and freed on
    /// every insert, a third of the statement's time in replay).
    static let insertMessage = """
        INSERT INTO messages (widget_id, conversation_id, id, role, content, domain, source_ip, created_at)
        VALUES (?1, ?2, coalesce((SELECT id FROM messages WHERE widget_id = ?1 AND conversation_id = ?2 ORDER BY id DESC LIMIT 1), 0) + 1,
                ?3, ?4, ?5, ?6, ?7)
        """

    private static func insert(_ message: StoredMessage, into db: inout SQLiteDatabase.Connection) throws {
        try db.query(insertMessage, [
            .text(message.widgetId), .text(message.conversationId), .text(message.role.rawValue), .text(message.content),
            message.domain.map(SQLiteValue.text) ?? .null, message.sourceIp.map(SQLiteValue.text) ?? .null,
            .real(message.createdAt.timeIntervalSince1970),
        ])
    }

    /// The last `limit` messages, oldest first. Every chat turn reads up to `max_conversation_length`
    /// of them, so the rows come newest first straight off the table's key order and are reversed
    /// here: an outer `ORDER BY id` over a subquery made SQLite copy each row into a temporary table to
    /// sort it (most of a chat turn's CPU on the stage once conversations grew). The two columns the
    /// query fixes are not read back, and the others are read in place: no array of values per row,
    /// no `String` for the role, and a domain or address equal to the next message's shares its string.
    private static func messages(widgetId: String, conversationId: String, limit: Int,
                                 in db: inout SQLiteDatabase.Connection) throws -> [StoredMessage] {
        var history: [StoredMessage] = []
        history.reserveCapacity(min(max(0, limit), 128))
        var domain: String?, sourceIp: String?
        try db.rows("""
            SELECT role, content, domain, source_ip, created_at FROM messages
            WHERE widget_id = ? AND conversation_id = ? ORDER BY id DESC LIMIT ?
            """, [.text(widgetId), .text(conversationId), .integer(Int64(max(0, limit)))]) { row in
            // Kept apart from `history.last`, which would copy a whole message per row to read them.
            domain = row.text(2, reusing: domain)
            sourceIp = row.text(3, reusing: sourceIp)
            history.append(StoredMessage(widgetId: widgetId, conversationId: conversationId, role: role(row, 0),
                                         content: row.text(1) ?? "", domain: domain, sourceIp: sourceIp,
                                         createdAt: Date(timeIntervalSince1970: row.real(4) ?? 0)))
        }
        // Swapped in place by moves: `Array.reverse()` copies each message (retaining its five strings
        // through value witnesses, as `Date` is resilient) and destroys the copy.
        history.withUnsafeMutableBufferPointer { $0.reverse() }
        return history
    }

    /// A stored role, told apart by its bytes; anything unknown reads as `user`, as before.
    private static func role(_ row: borrowing SQLiteDatabase.Row, _ column: Int32) -> ChatRole {
        if row.text(column, equals: "user") { return .user }
        if row.text(column, equals: "assistant") { return .assistant }
        return row.text(column).flatMap(ChatRole.init(rawValue:)) ?? .user
    }

    public func messages(domain: String) async throws -> [StoredMessage] {
        try await calls.read { db in
            try db.query("""
                SELECT widget_id, conversation_id, role, content, domain, source_ip, created_at FROM messages
                WHERE domain = ? ORDER BY created_at, widget_id, conversation_id, id
                """, [.text(domain)])
        }
            .map(Self.message)
    }

    private static func message(_ row: [SQLiteValue]) -> StoredMessage {
        StoredMessage(widgetId: row[0].text ?? "", conversationId: row[1].text ?? "",
                      role: ChatRole(rawValue: row[2].text ?? "") ?? .user, content: row[3].text ?? "",
                      domain: row[4].text, sourceIp: row[5].text, createdAt: Date(timeIntervalSince1970: row[6].real ?? 0))
    }

    // MARK: Counters and blocks

    /// Read, then written only when admitted, as an admission's counters are (`outcomes(of:in:)`).
    public func increment(_ key: String, limit: Int, expiresAt: Date) async throws -> CounterOutcome {
        try await calls.write { db in
            let counter = [CounterIncrement(key: key, limit: limit, expiresAt: expiresAt)]
            let outcome = try Self.outcomes(of: counter, in: &db)[0]
            if case .admitted = outcome { try Self.count(counter, in: &db) }
            return outcome
        }
    }

    /// The whole admission in one transaction: one commit (one round of WAL writes and file locks)
    /// and no separate read for the block, where the checks and the message took two commits and a read.
    /// The counters are read first and written only once every check has passed, so a refused
    /// message writes nothing: the transaction's write lock keeps them from moving in between.
    public func admit(_ admission: MessageAdmission) async throws -> AdmissionOutcome {
        try await calls.write { db in
            if let until = try Self.blockedUntil(admission.blockKey, now: admission.now, in: &db) { return .blocked(until: until) }
            let outcomes = try Self.outcomes(of: admission.counters, in: &db)
            if case .refused? = outcomes.last { return .refusedByCounter(outcomes) }
            if let budget = admission.budget, let message = admission.message {
                let count = try Self.messagesOfTheDay(widgetId: message.widgetId, at: message.createdAt, in: &db)
                if count >= budget {
                    // The interval refuses first: it is read without being claimed.
                    if let claim = admission.interval,
                       let remaining = try Self.intervalRemaining(claim.key, now: admission.now, interval: claim.interval, in: &db) {
                        return .refusedByInterval(remaining: remaining, counters: outcomes)
                    }
                    return .refusedByBudget(count: count)
                }
            }
            if let claim = admission.interval,
               let remaining = try Self.claimInterval(claim.key, now: admission.now, interval: claim.interval, expiresAt: claim.expiresAt, in: &db) {
                return .refusedByInterval(remaining: remaining, counters: outcomes)
            }
            try Self.count(admission.counters, in: &db)
            guard let message = admission.message else { return .admitted(counters: outcomes, history: []) }
            let history = admission.historyLimit > 0
                ? try Self.messages(widgetId: message.widgetId, conversationId: message.conversationId, limit: admission.historyLimit, in: &db)
                : []
            try Self.insert(message, into: &db)
            try Self.addUsage(at: message.createdAt, widgetId: message.widgetId, domain: message.domain ?? DailyUsage.unknown,
                              messages: 1, blocked: 0, in: &db)
            let reply = admission.answer.map { $0.reply(history) }
            if let reply, let stored = admission.answer?.storedReply(for: reply) { try Self.insert(stored, into: &db) }
            return .admitted(counters: outcomes, history: history, reply: reply)
        }
    }

    /// What incrementing `counters` one after another would give, up to and including the first that
    /// refuses (a limit of zero refuses at once, reporting 0); nothing is written. Their counts are
    /// read in one statement and the increments played out here, a repeated key seeing the ones
    /// before it. The multi-row upsert with `RETURNING` that this replaced cost twice the read and the
    /// plain upsert of `count(_:in:)` together: SQLite gathers a statement's returned rows in an
    /// ephemeral table, and a refusal had to be undone.
    private static func outcomes(of counters: [CounterIncrement], in db: inout SQLiteDatabase.Connection) throws -> [CounterOutcome] {
        var counts = try currentCounts(of: tallies(of: counters).map(\.key), in: &db)
        var outcomes: [CounterOutcome] = []
        outcomes.reserveCapacity(counters.count)
        for counter in counters {
            guard counter.limit > 0 else {
                outcomes.append(.refused(count: 0))
                break
            }
            let count = counts[counter.key, default: 0]
            guard count < Int64(counter.limit) else {
                outcomes.append(.refused(count: Int(count)))
                break
            }
            counts[counter.key] = count + 1
            outcomes.append(.admitted(count: Int(count + 1)))
        }
        return outcomes
    }

    /// Counts every increment of `counters`, which `outcomes(of:in:)` found all admitted: one upsert
    /// per 8 distinct keys, each adding its key's number of increments. A new row takes the expiry of
    /// its key's first increment, and an existing row keeps its own, as with one increment at a time.
    private static func count(_ counters: [CounterIncrement], in db: inout SQLiteDatabase.Connection) throws {
        try inStatementChunks(tallies(of: counters)) { chunk in
            var parameters: [SQLiteValue] = []
            parameters.reserveCapacity(3 * chunk.count)
            for tally in chunk {
                parameters += [.text(tally.key), .integer(Int64(tally.increments)), .real(tally.expiresAt.timeIntervalSince1970)]
            }
            try db.query(countStatements[chunk.count - 1], parameters)
        }
    }

    /// Each key of `counters` once, in their first order, with its number of increments and the
    /// expiry of its first.
    private static func tallies(of counters: [CounterIncrement]) -> [(key: String, increments: Int, expiresAt: Date)] {
        var tallies: [(key: String, increments: Int, expiresAt: Date)] = []
        tallies.reserveCapacity(counters.count)
        for counter in counters {
            if let index = tallies.firstIndex(where: { $0.key == counter.key }) {
                tallies[index].increments += 1
            } else {
                tallies.append((key: counter.key, increments: 1, expiresAt: counter.expiresAt))
            }
        }
        return tallies
    }

    /// The counts held under `keys` (a missing row is absent), read 8 keys to a statement.
    private static func currentCounts(of keys: [String], in db: inout SQLiteDatabase.Connection) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        try inStatementChunks(keys) { chunk in
            try db.rows(readStatements[chunk.count - 1], chunk.map(SQLiteValue.text)) { row in
                if let position = row.integer(0), chunk.indices.contains(chunk.startIndex + Int(position)) {
                    counts[chunk[chunk.startIndex + Int(position)]] = row.integer(1) ?? 0
                }
            }
        }
        return counts
    }

    /// Runs `body` on consecutive slices of `items`, each as long as the counter statements take.
    private static func inStatementChunks<Item>(_ items: [Item], _ body: (ArraySlice<Item>) throws -> Void) rethrows {
        for start in stride(from: 0, to: items.count, by: counterStatementCapacity) {
            try body(items[start..<min(start + counterStatementCapacity, items.count)])
        }
    }

    /// How many counters one read or upsert statement names.
    private static let counterStatementCapacity = 8

    /// Reads of 1 to 8 counters, at index `count - 1`: a `UNION ALL` of one-key lookups, each row
    /// naming its key by position (`key IN (…)` would first copy the keys into an ephemeral table).
    static let readStatements: [String] = (1...counterStatementCapacity).map { count in
        (0..<count).map { "SELECT \($0), count FROM counters WHERE key = ?\($0 + 1)" }.joined(separator: " UNION ALL ")
    }

    /// Upserts of 1 to 8 counters, at index `count - 1`. Row `i` binds its key, its number of
    /// increments and its expiry to parameters `3i+1`, `3i+2` and `3i+3`.
    static let countStatements: [String] = (1...counterStatementCapacity).map { count in
        let rows = (0..<count).map { "(?\(3 * $0 + 1), ?\(3 * $0 + 2), ?\(3 * $0 + 3))" }.joined(separator: ", ")
        return """
            INSERT INTO counters (key, count, expires_at) VALUES \(rows)
            ON CONFLICT(key) DO UPDATE SET count = count + excluded.count
            """
    }

    public func decrement(_ key: String) async throws {
        try await calls.write { db in try Self.decrement(key, in: &db) }
    }

    private static func decrement(_ key: String, in db: inout SQLiteDatabase.Connection) throws {
        try db.query("UPDATE counters SET count = count - 1 WHERE key = ? AND count > 0", [.text(key)])
    }

    public func claimInterval(_ key: String, now: Date, interval: TimeInterval, expiresAt: Date) async throws -> TimeInterval? {
        try await calls.write { db in try Self.claimInterval(key, now: now, interval: interval, expiresAt: expiresAt, in: &db) }
    }

    /// The messages of the widget counted in the usage of `date`'s UTC day, every domain together.
    private static func messagesOfTheDay(widgetId: String, at date: Date, in db: inout SQLiteDatabase.Connection) throws -> Int {
        try db.firstRow("SELECT COALESCE(SUM(messages), 0) FROM usage_daily WHERE day = ? AND widget_id = ?",
                        [.text(DailyUsage.day(of: date)), .text(widgetId)]) { Int($0.integer(0) ?? 0) } ?? 0
    }

    /// How much of the interval at `key` is left at `now`, without claiming it; nil when none is.
    private static func intervalRemaining(_ key: String, now: Date, interval: TimeInterval, in db: inout SQLiteDatabase.Connection) throws -> TimeInterval? {
        let nowSeconds = now.timeIntervalSince1970
        guard let last = try db.firstRow("SELECT last_at FROM intervals WHERE key = ?", [.text(key)], { $0.real(0) }) ?? nil,
              last > nowSeconds - interval else { return nil }
        return max(0, last + interval - nowSeconds)
    }

    private static func claimInterval(_ key: String, now: Date, interval: TimeInterval, expiresAt: Date,
                                      in db: inout SQLiteDatabase.Connection) throws -> TimeInterval? {
        let nowSeconds = now.timeIntervalSince1970
        let claimed = try db.firstRow("""
            INSERT INTO intervals (key, last_at, expires_at) VALUES (?1, ?2, ?4)
            ON CONFLICT(key) DO UPDATE SET last_at = ?2, expires_at = ?4 WHERE last_at <= ?2 - ?3
            RETURNING last_at
            """, [.text(key), .real(nowSeconds), .real(interval), .real(expiresAt.timeIntervalSince1970)]) { _ in true } ?? false
        if claimed { return nil }
        let last = try db.firstRow("SELECT last_at FROM intervals WHERE key = ?", [.text(key)]) { $0.real(0) ?? nowSeconds } ?? nowSeconds
        return max(0, last + interval - nowSeconds)
    }

    public func block(_ key: String, until: Date) async throws {
        try await calls.write { db in
            try db.query("INSERT INTO blocks (key, until) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET until = MAX(until, excluded.until)",
                         [.text(key), .real(until.timeIntervalSince1970)])
        }
    }

    public func blockedUntil(_ key: String, now: Date) async throws -> Date? {
        try await calls.read { db in try Self.blockedUntil(key, now: now, in: &db) }
    }

    private static func blockedUntil(_ key: String, now: Date, in db: inout SQLiteDatabase.Connection) throws -> Date? {
        try db.firstRow("SELECT until FROM blocks WHERE key = ? AND until > ?", [.text(key), .real(now.timeIntervalSince1970)]) {
            Date(timeIntervalSince1970: $0.real(0) ?? 0)
        }
    }

    // MARK: Security events

    /// Inserts the event, or folds it into the stored one of the same id (`SecurityEvent.merging`):
    /// the read and the write are one transaction, so concurrent refusals all count.
    public func recordSecurityEvent(_ event: SecurityEvent) async throws {
        try await calls.write { db in
            let stored = try db.firstRow("SELECT json FROM security_events WHERE id = ?", [.text(event.id)]) { row in
                try StoreCoding.securityEvent(json: (row.text(0) ?? "").utf8)
            }
            guard let stored else {
                try db.query("INSERT INTO security_events (id, type, widget_id, created_at, json, domain) VALUES (?, ?, ?, ?, ?, ?)",
                             [.text(event.id), .text(event.type.rawValue), event.widgetId.map(SQLiteValue.text) ?? .null,
                              .real(event.createdAt.timeIntervalSince1970), .text(StoreCoding.json(event)), .text(event.domain ?? "")])
                return
            }
            try db.query("UPDATE security_events SET json = ? WHERE id = ?", [.text(StoreCoding.json(stored.merging(event))), .text(event.id)])
        }
    }

    public func securityEvents(_ query: SecurityEventQuery) async throws -> [SecurityEvent] {
        let (sql, parameters) = Self.securityEventsStatement(query)
        return try await calls.read { db in try db.query(sql, parameters) }.map { try StoreCoding.securityEvent(json: ($0[0].text ?? "").utf8) }
    }

    /// The statement `securityEvents(_:)` runs. Only the filters the query sets go into the SQL, so
    /// that SQLite walks the index of one of them (type, widget or domain, each ordered like the
    /// result) and stops at `limit`. One statement for every query (`?2 IS NULL OR type = ?2`, ...)
    /// was planned as a walk over every event since `since`, reading each row for a domain: a cost
    /// that grew with the table (in `replay events/ × 100`, 0.3 ms to 8 ms an export).
    static func securityEventsStatement(_ query: SecurityEventQuery) -> (sql: String, parameters: [SQLiteValue]) {
        var conditions = ["created_at >= ?"]
        var parameters: [SQLiteValue] = [.real(query.since.timeIntervalSince1970)]
        if let until = query.until {
            conditions.append("created_at <= ?")
            parameters.append(.real(until.timeIntervalSince1970))
        }
        if let type = query.type {
            conditions.append("type = ?")
            parameters.append(.text(type.rawValue))
        }
        if let widgetId = query.widgetId {
            conditions.append("widget_id = ?")
            parameters.append(.text(widgetId))
        }
        if let domain = query.domain {
            conditions.append("domain = ?")
            parameters.append(.text(domain))
        }
        parameters.append(.integer(Int64(max(0, query.limit))))
        let sql = "SELECT json FROM security_events WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at DESC, id DESC LIMIT ?"
        return (sql, parameters)
    }

    // MARK: Usage and retention

    public func recordUsage(at date: Date, widgetId: String, domain: String, messages: Int, blocked: Int) async throws {
        try await calls.write { db in
            try Self.addUsage(at: date, widgetId: widgetId, domain: domain, messages: messages, blocked: blocked, in: &db)
        }
    }

    private static func addUsage(at date: Date, widgetId: String, domain: String, messages: Int, blocked: Int,
                                 in db: inout SQLiteDatabase.Connection) throws {
        try db.query("""
            INSERT INTO usage_daily (day, widget_id, domain, messages, blocked) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT(day, widget_id, domain) DO UPDATE SET messages = messages + ?4, blocked = blocked + ?5
            """, [.text(DailyUsage.day(of: date)), .text(widgetId), .text(domain), .integer(Int64(messages)), .integer(Int64(blocked))])
    }

    public func usage(days: [String]) async throws -> [DailyUsage] {
        try await calls.read { db in
            var result: [DailyUsage] = []
            for day in Set(days).sorted() {
                result += try db.query("SELECT widget_id, domain, messages, blocked FROM usage_daily WHERE day = ? ORDER BY widget_id, domain",
                                       [.text(day)])
                    .map { DailyUsage(day: day, widgetId: $0[0].text ?? "", domain: $0[1].text ?? "",
                                      messages: Int($0[2].integer ?? 0), blocked: Int($0[3].integer ?? 0)) }
            }
            return result
        }
    }

    /// Deletes the messages of every non-NULL domain older than `?1` through `messages_by_domain_and_time`:
    /// the recursive part finds the domains by jumping from each to the next in the index (a handful
    /// of seeks, where `SELECT DISTINCT` would read every entry), then each domain's old messages are
    /// one range of it. Messages without a domain are the other statement's range.
    static let purgeMessages = """
        WITH RECURSIVE domains (domain) AS (
            SELECT min(domain) FROM messages
            UNION ALL
            SELECT (SELECT min(domain) FROM messages WHERE domain > domains.domain) FROM domains WHERE domains.domain IS NOT NULL
        )
        DELETE FROM messages WHERE domain IN (SELECT domain FROM domains WHERE domain IS NOT NULL) AND created_at < ?1 RETURNING id
        """

    /// One transaction: what is past retention goes at once or not at all.
    public func purge(before cutoff: Date, now: Date) async throws -> PurgeResult {
        let cutoffSeconds = SQLiteValue.real(cutoff.timeIntervalSince1970), nowSeconds = SQLiteValue.real(now.timeIntervalSince1970)
        return try await calls.write { db in
            let messages = try db.query(Self.purgeMessages, [cutoffSeconds]).count
                + db.query("DELETE FROM messages WHERE domain IS NULL AND created_at < ? RETURNING id", [cutoffSeconds]).count
            let events = try db.query("DELETE FROM security_events WHERE created_at < ? RETURNING id", [cutoffSeconds]).count
            let buckets = try db.query("DELETE FROM usage_daily WHERE day < ? RETURNING day", [.text(DailyUsage.day(of: cutoff))]).count
            try db.query("DELETE FROM connections WHERE expires_at < ?", [nowSeconds])
            try db.query("DELETE FROM counters WHERE expires_at < ?", [nowSeconds])
            try db.query("DELETE FROM intervals WHERE expires_at < ?", [nowSeconds])
            try db.query("DELETE FROM blocks WHERE until < ?", [nowSeconds])
            return PurgeResult(messages: messages, securityEvents: events, usageBuckets: buckets)
        }
    }
}
