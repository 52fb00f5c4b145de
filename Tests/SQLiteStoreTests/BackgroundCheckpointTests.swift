import Foundation
@testable import SQLiteStore
import Testing

/// A file store's WAL checkpoints — and the one disk flush they carry — run on a connection of their
/// own, never inside a request's commit.
@Suite("SQLite background checkpoints")
struct BackgroundCheckpointTests {
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// Commits about 1,500 pages of WAL frames in single-row transactions, as chat messages do.
    static func fill(_ database: SQLiteDatabase) throws {
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL);")
        let body = String(repeating: "x", count: 3000)
        for _ in 0..<1500 {
            try database.query("INSERT INTO rows (body) VALUES (?)", [.text(body)])
        }
    }

    @Test("the writing connection does not checkpoint in its own commits")
    func writerLeavesCheckpointsAlone() throws {
        let path = DatabaseFiles.temporaryPath("checkpoint")
        defer { DatabaseFiles.remove(path) }
        let database = try SQLiteDatabase(path: path, checkpointInBackground: true)
        #expect(try database.query("PRAGMA wal_autocheckpoint") == [[.integer(0)]])
        let inlinePath = DatabaseFiles.temporaryPath("checkpoint")
        defer { DatabaseFiles.remove(inlinePath) }
        let inline = try SQLiteDatabase(path: inlinePath)
        #expect(try inline.query("PRAGMA wal_autocheckpoint") == [[.integer(1000)]])
    }

    @Test("as the WAL grows the background connection copies its frames into the database file")
    func backgroundConnectionCheckpoints() throws {
        let path = DatabaseFiles.temporaryPath("checkpoint")
        defer { DatabaseFiles.remove(path) }
        let database = try SQLiteDatabase(path: path, checkpointInBackground: true)
        try Self.fill(database)
        let checkpointer = try #require(database.checkpointer)
        // A commit that comes while a checkpoint is still running schedules none (a later one will),
        // so on a busy machine the last rows may be left for the next commit: make that commit.
        for _ in 0..<2 {
            checkpointer.drain()
            try database.query("INSERT INTO rows (body) VALUES ('')")
        }
        checkpointer.drain()
        // 1,500 rows of 3 KB: at least a thousand pages' worth must have reached the database file.
        #expect(Self.size(path) > 1000 * 4096)
        #expect(try database.query("SELECT count(*) FROM rows") == [[.integer(1502)]])
    }

    @Test("under continuous writes the WAL starts over instead of growing without bound")
    func walStaysBounded() throws {
        let path = DatabaseFiles.temporaryPath("checkpoint")
        defer { DatabaseFiles.remove(path) }
        let database = try SQLiteDatabase(path: path, checkpointInBackground: true)
        try Self.fill(database)
        let body = String(repeating: "y", count: 3000)
        // About 16,000 more pages, written back to back: a WAL that never started over would hold them
        // all; one that starts over stays within the size at which the writer waits for the disk.
        for _ in 0..<16000 {
            try database.query("INSERT INTO rows (body) VALUES (?)", [.text(body)])
        }
        let frame = 4096 + 24
        #expect(Self.size(path + "-wal") < Int(BackgroundCheckpointer.backPressureLimit + BackgroundCheckpointer.backgroundStep) * frame)
        #expect(try database.query("SELECT count(*) FROM rows") == [[.integer(17500)]])
    }

    @Test("a store on a file keeps every row across a reopen with checkpoints in the background")
    func nothingLostAcrossReopen() throws {
        let path = DatabaseFiles.temporaryPath("checkpoint")
        defer { DatabaseFiles.remove(path) }
        do {
            let database = try SQLiteDatabase(path: path, checkpointInBackground: true)
            try Self.fill(database)
        }
        let reopened = try SQLiteDatabase(path: path)
        #expect(try reopened.query("SELECT count(*) FROM rows") == [[.integer(1500)]])
        #expect(try reopened.query("PRAGMA integrity_check") == [[.text("ok")]])
    }
}
