import Dispatch
import Foundation
@testable import SQLiteStore
import Synchronization
import Testing

/// The store's calls run one at a time on its connection; those that arrive while one is running
/// are committed together, and each still succeeds or fails on its own.
@Suite("SQLite group commit")
struct GroupCommitQueueTests {
    /// A file database with a table, its queue, and a second connection that sees only what is committed.
    struct Files {
        let path = DatabaseFiles.temporaryPath("group-commit")
        let database: SQLiteDatabase
        let queue: GroupCommitQueue
        let observer: SQLiteDatabase

        init() throws {
            database = try SQLiteDatabase(path: path)
            try database.execute("""
                PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;
                CREATE TABLE parents (id INTEGER PRIMARY KEY);
                CREATE TABLE rows (id INTEGER PRIMARY KEY,
                                   parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);
                """)
            queue = GroupCommitQueue(database)
            observer = try SQLiteDatabase(path: path)
        }

        /// Rows another connection can read, in id order.
        func committedRows() throws -> [Int64] {
            try observer.query("SELECT id FROM rows ORDER BY id").compactMap { $0[0].integer }
        }

        /// Runs `calls` while a first call holds the connection until they are all queued behind it,
        /// so that they run as one batch after it; returns each call's result in order.
        func batch(_ calls: [@Sendable (inout SQLiteDatabase.Connection) throws -> Int64]) async throws -> [Result<Int64, any Error>] {
            let queue = queue
            let count = calls.count
            let holding = Flag()
            return try await withThrowingTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
                // Held on a thread of its own: spinning on one of the few cooperative threads could
                // leave none to run the calls it waits for.
                group.addTask(executorPreference: DispatchQueueExecutor()) {
                    try await queue.write { _ in
                        holding.raise()
                        let deadline = ContinuousClock.now + .seconds(20)
                        while queue.queuedCount < count, ContinuousClock.now < deadline { usleep(200) }
                        return 0
                    }
                    return (-1, .success(0))
                }
                while !holding.isRaised { try await Task.sleep(for: .milliseconds(1)) }
                for (index, call) in calls.enumerated() {
                    group.addTask {
                        do { return (index, .success(try await queue.write(call))) } catch { return (index, .failure(error)) }
                    }
                }
                var results = [Result<Int64, any Error>?](repeating: nil, count: count)
                for try await (index, result) in group where index >= 0 { results[index] = result }
                return results.compactMap { $0 }
            }
        }
    }

    /// Runs a task's jobs on a dispatch queue's thread instead of the cooperative pool.
    final class DispatchQueueExecutor: TaskExecutor {
        private let queue = DispatchQueue(label: "GroupCommitQueueTests.holder")

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    /// Set once by one task, read by another.
    final class Flag: Sendable {
        private let raised = Atomic<Bool>(false)
        func raise() { raised.store(true, ordering: .releasing) }
        var isRaised: Bool { raised.load(ordering: .acquiring) }
    }

    static func insert(_ id: Int64, parent: Int64? = nil) -> @Sendable (inout SQLiteDatabase.Connection) throws -> Int64 {
        { db in
            try db.query("INSERT INTO rows (id, parent) VALUES (?, ?)", [.integer(id), parent.map { .integer($0) } ?? .null])
            return id
        }
    }

    @Test("calls queued behind a running one commit together: another connection sees none before the last has run")
    func queuedCallsCommitTogether() async throws {
        let files = try Files()
        defer { DatabaseFiles.remove(files.path) }
        let observer = files.observer
        let seenDuringBatch = Mutex<[[Int64]]>([])
        let results = try await files.batch((1...3).map { id in
            { db in
                let id = try Self.insert(Int64(id))(&db)
                let committed = try observer.query("SELECT id FROM rows ORDER BY id").compactMap { $0[0].integer }
                seenDuringBatch.withLock { $0.append(committed) }
                return id
            }
        })
        #expect(try results.map { try $0.get() } == [1, 2, 3])
        #expect(seenDuringBatch.withLock { $0 } == [[], [], []])
        #expect(try files.committedRows() == [1, 2, 3])
    }

    @Test("a call that throws in a batch undoes only its own statements; the others commit")
    func failedCallRollsBackAlone() async throws {
        struct Refused: Error {}
        let files = try Files()
        defer { DatabaseFiles.remove(files.path) }
        let results = try await files.batch([
            Self.insert(1),
            { db in
                _ = try Self.insert(2)(&db)
                throw Refused()
            },
            Self.insert(3),
        ])
        #expect(try results[0].get() == 1 && results[2].get() == 3)
        #expect(throws: Refused.self) { try results[1].get() }
        #expect(try files.committedRows() == [1, 3])
    }

    @Test("a call in a batch reads what the calls before it wrote")
    func laterCallsSeeEarlierWrites() async throws {
        let files = try Files()
        defer { DatabaseFiles.remove(files.path) }
        let results = try await files.batch([
            Self.insert(1),
            { db in try db.firstRow("SELECT count(*) FROM rows") { $0.integer(0) ?? -1 } ?? -1 },
        ])
        #expect(try results.map { try $0.get() } == [1, 1])
    }

    @Test("when the batch's commit fails, every call in it fails and nothing of it is kept")
    func failedCommitFailsTheBatch() async throws {
        let files = try Files()
        defer { DatabaseFiles.remove(files.path) }
        // The reference to a missing parent is checked at COMMIT (a deferred foreign key), after both bodies succeeded.
        let results = try await files.batch([Self.insert(1, parent: 99), Self.insert(2)])
        for result in results {
            #expect(throws: SQLiteError.self) { try result.get() }
        }
        #expect(try files.committedRows() == [])
        // The connection is usable again: the failed transaction was rolled back.
        #expect(try await files.queue.write(Self.insert(3)) == 3)
        #expect(try files.committedRows() == [3])
    }

    @Test("a call that finds the connection idle commits before it returns")
    func loneCallCommitsAtOnce() async throws {
        let files = try Files()
        defer { DatabaseFiles.remove(files.path) }
        #expect(try await files.queue.write(Self.insert(7)) == 7)
        #expect(try files.committedRows() == [7])
        #expect(try await files.queue.read { db in try db.firstRow("SELECT max(id) FROM rows") { $0.integer(0) } ?? nil } == 7)
    }
}
