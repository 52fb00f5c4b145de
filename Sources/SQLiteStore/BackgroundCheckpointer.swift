import CSQLite
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs most of a file database's WAL checkpoints on a thread of its own, over a connection of its own.
///
/// SQLite checkpoints inside the commit that takes the WAL past 1,000 pages; with `synchronous=NORMAL`
/// that checkpoint's flushes are the only disk flushes, and they land on whichever chat message
/// happened to commit — while the store's lock is held, so every message behind it waits too: that
/// was the stage's p99. Here the committing connection's WAL hook schedules a PASSIVE checkpoint every
/// `backgroundStep` new pages: it copies frames and flushes without blocking readers or writers, in
/// small steps, off the request path.
///
/// A background checkpoint alone cannot bound the WAL: SQLite starts the WAL over only when a writer
/// begins while every frame is copied, which a writer that never pauses does not allow. So past
/// `inlineLimit` pages the committing connection checkpoints itself, as SQLite would. That checkpoint
/// must be small, because its flushes hold up every message queued behind the store's lock:
/// - it does not wait for a background checkpoint (whose flush can take milliseconds): while one is
///   pending it is left to a later commit, and none is scheduled past the limit, so one comes soon —
///   only past `backPressureLimit` does the writer wait, so that a slow disk cannot let the WAL grow
///   without bound;
/// - the background checkpoints just before the limit also flush the database file, which SQLite
///   itself does only when a checkpoint has copied every frame — under continuous writes, never — so
///   the writer's flush would otherwise carry every page the background copied since the WAL last
///   started over.
final class BackgroundCheckpointer: Sendable {
    /// Each background checkpoint flushes the WAL before it copies (SQLite's order under
    /// `synchronous=NORMAL`), so the step trades flushes against the size of each checkpoint: every
    /// 100 pages the flushes were 6% of the stage's CPU samples; every 1,000, each checkpoint's flush
    /// and copy slowed the messages around it by 5–12 ms on two cores, which set the stage's p99 at
    /// 1,000 msg/s. Every 250, the CPU per message is that of 1,000 within the noise and the p99 that
    /// of 100 (BENCHMARKS.md, round 7).
    static let backgroundStep: Int32 = 250
    static let inlineLimit: Int32 = 4000
    static let backPressureLimit: Int32 = 6000

    private let database: SQLiteDatabase
    /// The database file, opened once more: flushing any descriptor of a file flushes the file.
    private let databaseFile: Int32
    private let queue = DispatchQueue(label: "SQLiteStore.checkpoint")
    /// Set from when a background checkpoint is scheduled until it has run and flushed.
    private let pending = Atomic<Bool>(false)
    /// The WAL's size in pages when the last background checkpoint was scheduled.
    private let scheduledAtPages = Atomic<Int32>(0)

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        databaseFile = open(path, O_RDONLY | O_CLOEXEC)
        guard databaseFile >= 0 else {
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot open \(path) to flush checkpoints: errno \(errno)")
        }
    }

    deinit {
        // Nothing is still scheduled: each scheduled checkpoint holds this object until it has run.
        close(databaseFile)
    }

    /// Called by the writing connection `handle` after each commit (its lock released, the store's held)
    /// with the WAL's size in pages.
    func walCommitted(pages: Int32, on handle: OpaquePointer?) {
        if pages >= Self.inlineLimit, let handle {
            if pending.load(ordering: .acquiring) {
                // Left to a later commit, unless the disk has fallen this far behind the writer: then
                // the writer waits for it, which is what keeps the WAL bounded whatever the disk.
                guard pages >= Self.backPressureLimit else { return }
                drain()
            }
            // Copies what was committed since the last background checkpoint; the next write then
            // starts the WAL over. A checkpoint another process is running makes this one return at
            // once (PASSIVE never waits), and a later commit tries again.
            sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        let previous = scheduledAtPages.load(ordering: .relaxed)
        // A WAL smaller than at the last schedule has started over.
        guard pages < previous || pages - previous >= Self.backgroundStep else { return }
        guard pending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        scheduledAtPages.store(pages, ordering: .relaxed)
        // Only the last few before the limit flush the database file: flushing at every step would
        // write its busiest pages to the disk again and again instead of once per pass over the WAL.
        let flushesDatabase = pages >= Self.inlineLimit - 2 * Self.backgroundStep
        queue.async { [self] in
            // A checkpoint that cannot run now (another process checkpointing) is retried by a later
            // commit; nothing is lost either way: the frames stay in the WAL until one copies them.
            try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")
            if flushesDatabase { flush(databaseFile) }
            pending.store(false, ordering: .releasing)
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

/// Writes a file's data to the disk (`fdatasync`; `fsync` where there is no `fdatasync`).
private func flush(_ descriptor: Int32) {
    #if canImport(Glibc)
    _ = fdatasync(descriptor)
    #else
    _ = fsync(descriptor)
    #endif
}
