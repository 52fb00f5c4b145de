import CSQLite
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Runs the store's calls on its one SQLite connection one at a time, and commits the writes that
/// arrive while another call is running together, in one transaction (a group commit).
///
/// Why not a mutex around the connection: with the stage answering many connections at once, the
/// cooperative pool's threads would take turns blocking on it (a priority-inheritance futex in the
/// kernel) while the holder writes WAL frames for a commit of one or two rows, and lock waits,
/// context switches and commits become most of a message's CPU (BENCHMARKS.md). Here a call that
/// finds the connection busy is queued and its task suspended, so its thread goes on with other
/// work; whoever drains the queue runs everything queued as one batch:
/// - a batch with any write runs in one `BEGIN IMMEDIATE` transaction, each call in a savepoint of its
///   own, so a call that fails undoes only its own statements and the others still commit;
/// - no call returns before the batch's commit: a result is never seen that a failed commit undid;
///   if the commit fails, every call of the batch fails with its error;
/// - a page that several calls change (a counter, a conversation's tail, an index's last page) goes
///   to the WAL once per batch rather than once per call.
///
/// A call that finds the connection idle runs at once on its own thread, as before, so a lone client
/// pays no hop: batching only happens when calls would have waited for each other anyway.
final class GroupCommitQueue: Sendable {
    private let database: SQLiteDatabase
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var queued: [Call] = []
        /// Set while a batch is running or about to run: calls arriving then are queued behind it.
        var draining = false
    }

    /// One call: its body, run on the connection, and how its caller is answered.
    private struct Call: Sendable {
        let writes: Bool
        /// Runs the body and returns how to answer the caller once the batch is settled.
        let run: @Sendable (inout SQLiteDatabase.Connection) -> Answer
        /// Answers the caller with `error` without running the body.
        let fail: @Sendable (any Error) -> Void
    }

    /// A body's result, held until its batch commits.
    private struct Answer {
        let succeeded: Bool
        /// Resumes the caller with the body's result, or with the commit's error when there is one.
        let send: @Sendable ((any Error)?) -> Void
    }

    init(_ database: SQLiteDatabase) {
        self.database = database
    }

    /// How many calls wait behind the running batch: what tests wait for to line calls up.
    var queuedCount: Int { state.withLock { $0.queued.count } }

    /// Runs `body`, which may write, atomically: its statements commit together or not at all.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (inout SQLiteDatabase.Connection) throws -> T) async throws -> T {
        try await perform(writes: true, body)
    }

    /// Runs `body`, which only reads. In a batch without writes it runs outside any transaction;
    /// after a write in the same batch, it sees that write.
    func read<T: Sendable>(_ body: @escaping @Sendable (inout SQLiteDatabase.Connection) throws -> T) async throws -> T {
        try await perform(writes: false, body)
    }

    private func perform<T: Sendable>(writes: Bool, _ body: @escaping @Sendable (inout SQLiteDatabase.Connection) throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { continuation in
            let call = Call(writes: writes, run: { connection in
                let result: Result<T, any Error>
                do { result = .success(try body(&connection)) } catch { result = .failure(error) }
                let succeeded = if case .success = result { true } else { false }
                return Answer(succeeded: succeeded) { commitError in
                    continuation.resume(with: commitError.map { .failure($0) } ?? result)
                }
            }, fail: { error in continuation.resume(throwing: error) })
            let leads = state.withLock { state in
                state.queued.append(call)
                if state.draining { return false }
                state.draining = true
                return true
            }
            // The connection was idle: run this call (and whatever queued meanwhile) right here.
            if leads { drainOnce() }
        }
    }

    /// Runs one batch: every call queued now. If more arrived meanwhile, a task runs the next batch,
    /// so that the thread which ran this one returns to its own caller.
    private func drainOnce() {
        var batch: [Call] = []
        state.withLock { swap(&batch, &$0.queued) }
        run(batch)
        let more = state.withLock { state in
            if state.queued.isEmpty { state.draining = false }
            return state.draining
        }
        if more { Task { self.drainOnce() } }
    }

    private func run(_ batch: [Call]) {
        database.withConnection { connection in
            guard batch.contains(where: \.writes) else {
                for call in batch { call.run(&connection).send(nil) }
                return
            }
            var rest = batch[...]
            while !rest.isEmpty { rest = Self.runTransaction(rest, on: &connection) }
        }
    }

    /// Runs `calls` in one write transaction and answers them. Returns the calls not yet run when
    /// SQLite rolled the whole transaction back under one of them (an I/O error, a full disk): the
    /// calls before it, and that one, fail with its error, and the rest go in a transaction of their own.
    private static func runTransaction(_ calls: ArraySlice<Call>, on connection: inout SQLiteDatabase.Connection) -> ArraySlice<Call> {
        do {
            try connection.query("BEGIN IMMEDIATE")
        } catch {
            for call in calls { call.fail(error) }
            return []
        }
        let savepoints = calls.count > 1
        var answers: [Answer] = []
        answers.reserveCapacity(calls.count)
        for (index, call) in zip(calls.indices, calls) {
            if savepoints {
                do { try connection.query("SAVEPOINT call") } catch {
                    call.fail(error)
                    continue
                }
            }
            let answer = call.run(&connection)
            guard connection.isInTransaction else {
                let lost = SQLiteError(code: SQLITE_ABORT,
                                       message: "SQLite rolled back the transaction this call shared with others, under another call's statement")
                for earlier in answers { earlier.send(lost) }
                answer.send(answer.succeeded ? lost : nil)
                return calls[(index + 1)...]
            }
            if savepoints {
                if !answer.succeeded { _ = try? connection.query("ROLLBACK TO call") }
                _ = try? connection.query("RELEASE call")
            }
            answers.append(answer)
        }
        var commitError: (any Error)?
        do {
            if !savepoints, let only = answers.first, !only.succeeded {
                try connection.query("ROLLBACK")
            } else {
                try connection.query("COMMIT")
            }
        } catch {
            commitError = error
            _ = try? connection.query("ROLLBACK")
        }
        for answer in answers { answer.send(answer.succeeded ? commitError : nil) }
        return []
    }
}
