@testable import SQLiteStore
import Testing

/// Hot queries read their columns in place (`rows`, `firstRow`) instead of as arrays of values, and
/// bind text without copying it; these are the guarantees the store relies on.
@Suite("SQLite rows read in place")
struct RowReadingTests {
    static func database() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL);")
        return database
    }

    @Test("rows visits every row in order, with NULL read as nil and text read by its length")
    func visitsRows() throws {
        let database = try Self.database()
        // Bound by its length, so the NUL stays in the text; `String(cString:)` would stop at it.
        try database.query("INSERT INTO t VALUES (1, ?, 1.5), (2, NULL, NULL), (3, 'ünïcode', 3)", [.text("a\u{0}b")])
        var seen: [String] = []
        try database.withConnection { db in
            try db.rows("SELECT id, name, score FROM t WHERE id >= ? ORDER BY id", [.integer(1)]) { row in
                seen.append("\(row.integer(0) ?? -1) \(row.text(1) ?? "nil") \(row.real(2).map { "\($0)" } ?? "nil") \(row.isNull(1))")
            }
        }
        #expect(seen == ["1 a\u{0}b 1.5 false", "2 nil nil true", "3 ünïcode 3.0 false"])
    }

    @Test("text compares by bytes, and an equal candidate of more than 15 bytes is shared, not copied")
    func comparesText() throws {
        let database = try Self.database()
        let long = "2001:db8:85a3::8a2e:370:7334"
        try database.query("INSERT INTO t VALUES (1, 'assistant', NULL), (2, ?, NULL)", [.text(long)])
        let short = try database.firstRow("SELECT name, score FROM t WHERE id = 1") { row in
            (row.text(0, equals: "assistant"), row.text(0, equals: "assist"), row.text(1, equals: ""),
             row.text(0, reusing: "assistant"), row.text(0, reusing: "user"), row.text(1, reusing: "assistant"))
        }
        let values = try #require(short)
        #expect(values.0 && !values.1 && !values.2)
        #expect(values.3 == "assistant" && values.4 == "assistant" && values.5 == nil)

        var candidate = long
        var read = try #require(try database.firstRow("SELECT name FROM t WHERE id = 2") { $0.text(0, reusing: candidate) } ?? nil)
        #expect(read == long)
        #expect(read.withUTF8 { $0.baseAddress } == candidate.withUTF8 { $0.baseAddress })
    }

    @Test("firstRow maps the first row only, is nil without one, and a RETURNING has made its changes")
    func firstRow() throws {
        let database = try Self.database()
        try database.query("INSERT INTO t VALUES (1, 'x', 0), (2, 'x', 0)")
        #expect(try database.firstRow("SELECT id FROM t ORDER BY id") { $0.integer(0) } == 1)
        #expect(try database.firstRow("SELECT id FROM t WHERE id > 9") { $0.integer(0) } == nil)
        let first = try database.firstRow("UPDATE t SET score = 7 WHERE name = ? RETURNING id", [.text("x")]) { $0.integer(0) }
        #expect(first != nil)
        #expect(try database.query("SELECT count(*) FROM t WHERE score = 7") == [[.integer(2)]])
    }

    @Test("a cached statement run again binds every parameter: none is left from the previous run")
    func rebindsEveryParameter() throws {
        let database = try Self.database()
        let insert = "INSERT INTO t (id, name) VALUES (?, ?)"
        try database.query(insert, [.integer(1), .text(String(repeating: "long text ", count: 10))])
        try database.query(insert, [.integer(2)])
        try database.query(insert, [.integer(3), .text("")])
        #expect(try database.query("SELECT id, name FROM t ORDER BY id")
            == [[.integer(1), .text(String(repeating: "long text ", count: 10))], [.integer(2), .null], [.integer(3), .text("")]])
    }

    @Test("a transaction's body runs its statements on the connection and is rolled back when it throws")
    func transaction() throws {
        struct Refused: Error {}
        let database = try Self.database()
        #expect(throws: Refused.self) {
            try database.transaction { db in
                try db.query("INSERT INTO t (id) VALUES (1)")
                throw Refused()
            }
        }
        let count = try database.transaction { db in
            try db.query("INSERT INTO t (id) VALUES (2)")
            return try db.firstRow("SELECT count(*) FROM t") { $0.integer(0) }
        }
        #expect(count == 1)
    }
}
