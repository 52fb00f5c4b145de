import CSQLite
import Dispatch
import Synchronization

/// Runs a file database's WAL checkpoints on a thread of its own, over a connection of its own.
///
/// SQLite checkpoints inside the commit that takes the WAL past 1,000 pages; with `synchronous=NORMAL`
/// that checkpoint's `fdatasync` (8–11 ms on the machine BENCHMARKS.md describes) is the only disk
/// flush, and it lands on whichever chat message happened to commit — while the store's lock is held,
/// so every message behind it waits too: that was the stage's p99. Here the committing connection's WAL
/// hook only notices the threshold and schedules a PASSIVE checkpoint, which copies frames without
/// blocking readers or writers; the flush happens off the request path.
final class BackgroundCheckpointer: Sendable {
    /// SQLite's own default threshold, so the WAL grows no larger than it would have.
    static let pageThreshold: Int32 = 1000

    private let database: SQLiteDatabase
    private let queue = DispatchQueue(label: "SQLiteStore.checkpoint")
    private let scheduled = Atomic<Bool>(false)

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
    }

    /// Called by the writing connection after each commit with the WAL's size in pages; schedules
    /// one checkpoint unless one is already waiting.
    func walCommitted(pages: Int32) {
        guard pages >= Self.pageThreshold,
              scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        queue.async { [self] in
            // Cleared first, so that commits made while this one runs can schedule the next.
            scheduled.store(false, ordering: .releasing)
            // A checkpoint that cannot run now (SQLITE_BUSY, another process checkpointing) is retried
            // by the next commit past the threshold; nothing is lost either way: the frames stay in the WAL.
            try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    /// Makes `handle`'s commits report to this checkpointer instead of checkpointing themselves.
    /// `handle` must be closed before this checkpointer is released.
    func install(on handle: OpaquePointer) {
        sqlite3_wal_hook(handle, { context, _, _, pages in
            if let context { Unmanaged<BackgroundCheckpointer>.fromOpaque(context).takeUnretainedValue().walCommitted(pages: pages) }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Waits until every checkpoint scheduled so far has run.
    func drain() {
        queue.sync {}
    }
}
