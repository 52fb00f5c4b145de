import CSQLite
import Dispatch
import Synchronization

/// Runs most of a file database's WAL checkpoints on a thread of its own, over a connection of its own.
///
/// SQLite checkpoints inside the commit that takes the WAL past 1,000 pages; with `synchronous=NORMAL`
/// that checkpoint's `fdatasync` (8–11 ms on the machine BENCHMARKS.md describes) is the only disk
/// flush, and it lands on whichever chat message happened to commit — while the store's lock is held,
/// so every message behind it waits too: that was the stage's p99. Here the committing connection's WAL
/// hook schedules a PASSIVE checkpoint every `backgroundStep` new pages: it copies frames and flushes
/// without blocking readers or writers, in small steps, off the request path.
///
/// A background checkpoint alone cannot bound the WAL: SQLite starts the WAL over only when a writer
/// begins while every frame is copied, which a writer that never pauses does not allow. So past
/// `inlineLimit` pages the committing connection checkpoints itself, as SQLite would; the background
/// has copied nearly everything by then, so that checkpoint's flush is a small one.
final class BackgroundCheckpointer: Sendable {
    static let backgroundStep: Int32 = 200
    static let inlineLimit: Int32 = 4000

    private let database: SQLiteDatabase
    private let queue = DispatchQueue(label: "SQLiteStore.checkpoint")
    private let scheduled = Atomic<Bool>(false)
    /// The WAL's size in pages when the last background checkpoint was scheduled.
    private let scheduledAtPages = Atomic<Int32>(0)

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
    }

    /// Called by the writing connection `handle` after each commit (its lock released, the store's held)
    /// with the WAL's size in pages.
    func walCommitted(pages: Int32, on handle: OpaquePointer?) {
        if pages >= Self.inlineLimit, let handle {
            // Only one checkpoint runs at a time: let the background's finish, then copy what is left.
            drain()
            sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        let previous = scheduledAtPages.load(ordering: .relaxed)
        // A WAL smaller than at the last schedule has started over.
        guard pages < previous || pages - previous >= Self.backgroundStep else { return }
        scheduledAtPages.store(pages, ordering: .relaxed)
        guard scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        queue.async { [self] in
            // Cleared first, so that commits made while this one runs can schedule the next.
            scheduled.store(false, ordering: .releasing)
            // A checkpoint that cannot run now (another process checkpointing) is retried by a later
            // commit; nothing is lost either way: the frames stay in the WAL until one copies them.
            try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    /// Makes `handle`'s commits report to this checkpointer instead of checkpointing themselves.
    /// `handle` must be closed before this checkpointer is released.
    func install(on handle: OpaquePointer) {
        sqlite3_wal_hook(handle, { context, handle, _, pages in
            if let context { Unmanaged<BackgroundCheckpointer>.fromOpaque(context).takeUnretainedValue().walCommitted(pages: pages, on: handle) }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Waits until every background checkpoint scheduled so far has run.
    func drain() {
        queue.sync {}
    }
}
