#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A chat message's rate-limit checks, and the message, as one store call (`Store.admit(_:)`), in
/// this order:
/// 1. refused while the block at `blockKey` is in force at `now`;
/// 2. each of `counters` incremented as `Store.increment(_:limit:expiresAt:)` does, in order; the
///    first that refuses ends the admission, and the increments before it are taken back;
/// 3. `interval` claimed as `Store.claimInterval` does; if it is too soon, every increment is taken
///    back, so a refused message never uses up quota;
/// 4. with a `message` and a `budget`: refused when the message's widget has `budget` messages
///    counted in the usage of the message's UTC day already (all domains together); the counters'
///    increments are taken back (the interval may stay claimed). A store may count the budget
///    approximately: it never admits more than `budget` plus `MessageAdmission.budgetSlack`;
/// 5. `message`, if any, stored and counted in its usage bucket (UTC day of `createdAt`, widget,
///    `domain` or `DailyUsage.unknown`), and the conversation's last `historyLimit` messages from
///    before it returned, oldest first. Without a message the checks alone run: a message the
///    content filter refuses still counts against the limits, but is not stored;
/// 6. with an `answer`: its reply to the admitted message, made from the history of step 5, stored
///    right after `message` (and not counted) when it is not empty, and returned in the outcome.
public struct MessageAdmission: Sendable {
    public var blockKey: String
    public var now: Date
    public var counters: [CounterIncrement]
    public var interval: IntervalClaim?
    public var message: StoredMessage?
    /// Asked only once `message` is admitted.
    public var answer: ImmediateAnswer?
    public var historyLimit: Int
    /// The most messages of the message's widget a UTC day; nil for no budget.
    public var budget: Int?

    /// How far past `budget` a store that counts it approximately may admit (`DynamoDBStore`
    /// spreads the count over the shards of the day's usage).
    public static let budgetSlack = 8

    public init(blockKey: String, now: Date, counters: [CounterIncrement], interval: IntervalClaim? = nil,
                message: StoredMessage? = nil, answer: ImmediateAnswer? = nil, historyLimit: Int = 0, budget: Int? = nil) {
        self.blockKey = blockKey
        self.now = now
        self.counters = counters
        self.interval = interval
        self.message = message
        self.answer = answer
        self.historyLimit = historyLimit
        self.budget = budget
    }
}

/// A reply that a provider has without waiting (`ImmediateReplying`), made by the store during the
/// admission: never for a refused message, and kept in the same write as the message (SQLite: one
/// commit for the whole turn, where storing the reply afterwards took a second). A store runs
/// `reply` inside its transaction, so it must be a quick computation with no I/O.
public struct ImmediateAnswer: Sendable {
    /// The reply's text, given the conversation's last `historyLimit` messages before the new one.
    public var reply: @Sendable (_ history: [StoredMessage]) -> String
    /// What is stored for a non-empty reply (the redacted assistant message).
    public var stored: @Sendable (_ reply: String) -> StoredMessage

    public init(reply: @escaping @Sendable (_ history: [StoredMessage]) -> String,
                stored: @escaping @Sendable (_ reply: String) -> StoredMessage) {
        self.reply = reply
        self.stored = stored
    }

    /// The reply to store after the message: nil when the answer was empty.
    public func storedReply(for text: String) -> StoredMessage? {
        text.isEmpty ? nil : stored(text)
    }
}

/// One bounded increment of an admission.
public struct CounterIncrement: Sendable, Equatable {
    public var key: String
    public var limit: Int
    public var expiresAt: Date
    /// The counters (and interval) of an admission that name one scope belong to one subject, and
    /// a store may keep them together as one record, checked and counted in one write. Within a
    /// scope a counter is known by its `key` alone; a key the scope's admissions no longer name
    /// (a window that has ended) may be forgotten. Nil keeps the counter on its own.
    public var scope: String?

    public init(key: String, limit: Int, expiresAt: Date, scope: String? = nil) {
        self.key = key
        self.limit = limit
        self.expiresAt = expiresAt
        self.scope = scope
    }
}

/// The result of an atomic bounded increment.
public enum CounterOutcome: Sendable, Equatable {
    /// The counter was below the limit and now holds `count`.
    case admitted(count: Int)
    /// The counter had reached the limit and was left unchanged.
    case refused(count: Int)
}

/// The minimum interval between two messages of an admission.
public struct IntervalClaim: Sendable, Equatable {
    public var key: String
    public var interval: TimeInterval
    public var expiresAt: Date
    /// As `CounterIncrement.scope`: the record the interval may share with its subject's counters.
    public var scope: String?

    public init(key: String, interval: TimeInterval, expiresAt: Date, scope: String? = nil) {
        self.key = key
        self.interval = interval
        self.expiresAt = expiresAt
        self.scope = scope
    }
}

/// How an admission ended.
public enum AdmissionOutcome: Sendable, Equatable {
    /// A block is in force until then; nothing was counted.
    case blocked(until: Date)
    /// The last of these outcomes is the counter that refused; the increments before it were taken back.
    case refusedByCounter([CounterOutcome])
    /// Every counter admitted the message (`counters`), but the interval had `remaining` seconds to
    /// run; every increment was taken back.
    case refusedByInterval(remaining: TimeInterval, counters: [CounterOutcome])
    /// Every counter and the interval admitted the message, but its widget had `count` messages of
    /// the day, its budget; every increment was taken back.
    case refusedByBudget(count: Int)
    /// Every check passed; the message is stored, `history` is what came before it, and `reply` is
    /// the admission's `answer` (stored after the message unless empty), nil without one.
    case admitted(counters: [CounterOutcome], history: [StoredMessage], reply: String? = nil)
}
