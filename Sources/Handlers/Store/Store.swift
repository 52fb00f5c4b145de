#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything the handlers keep between invocations. Lambda handlers are stateless: connections,
/// conversations, widgets, counters and security events live here, in SQLite locally and in
/// DynamoDB when deployed. Both pass one conformance suite.
///
/// Counter operations are single atomic conditional writes in every implementation, never
/// read-modify-write in a handler: N concurrent requests against a limit L admit exactly min(N, L).
public protocol Store: Sendable {
    // Widgets
    func widget(id: String) async throws -> WidgetConfig?
    func putWidget(_ widget: WidgetConfig) async throws
    /// Widgets ordered by id, starting after `cursor`; a page of at most `limit`.
    func widgets(after cursor: String?, limit: Int) async throws -> [WidgetConfig]
    /// Whether an active widget lists exactly `domain` (already lower-cased) among its allowed domains.
    func activeWidgetAllows(domain: String) async throws -> Bool

    // Connections
    func putConnection(_ connection: ConnectionRecord) async throws
    func connection(id: String) async throws -> ConnectionRecord?
    /// Removes the connection and returns what was removed; nil when it was already gone.
    func removeConnection(id: String) async throws -> ConnectionRecord?

    // Conversations
    func appendMessage(_ message: StoredMessage) async throws
    /// The last `limit` messages of a conversation, oldest first.
    func messages(widgetId: String, conversationId: String, limit: Int) async throws -> [StoredMessage]
    /// Every retained message from `domain` (exact host), oldest first: a GDPR export.
    func messages(domain: String) async throws -> [StoredMessage]

    // Counters and blocks
    /// Atomically adds one to `key` unless it already holds `limit`; a new key starts at 0 and
    /// may be forgotten after `expiresAt`.
    func increment(_ key: String, limit: Int, expiresAt: Date) async throws -> CounterOutcome
    /// Runs a chat message's rate-limit checks and, when they admit it, stores it: everything a chat
    /// turn writes and reads before it calls the provider, so that a store can do it in one
    /// transaction (SQLite: one commit where there were two, and one read fewer). Each step stays
    /// individually atomic either way; `MessageAdmission` says what the steps are.
    func admit(_ admission: MessageAdmission) async throws -> AdmissionOutcome
    /// Takes back an increment that a later check refused.
    func decrement(_ key: String) async throws
    /// Records `now` as the last use of `key` when the previous use is at least `interval` old;
    /// otherwise returns how much of the interval is left.
    func claimInterval(_ key: String, now: Date, interval: TimeInterval, expiresAt: Date) async throws -> TimeInterval?
    func block(_ key: String, until: Date) async throws
    /// When the block on `key` ends, if it is still in force at `now`.
    func blockedUntil(_ key: String, now: Date) async throws -> Date?

    // Security events
    /// Stores the event, or, when an event of the same id is stored, folds this one into it
    /// (`SecurityEvent.merging`: counts added, samples merged up to `SecurityEvent.sampleLimit`)
    /// atomically, so that concurrent refusals all count and a flood stays one record.
    func recordSecurityEvent(_ event: SecurityEvent) async throws
    /// Matching events, newest first.
    func securityEvents(_ query: SecurityEventQuery) async throws -> [SecurityEvent]

    // Usage and retention
    /// Atomically adds `messages` and `blocked` to the bucket of (UTC day of `date`, widget, domain).
    func recordUsage(at date: Date, widgetId: String, domain: String, messages: Int, blocked: Int) async throws
    /// Every bucket of the given days.
    func usage(days: [String]) async throws -> [DailyUsage]
    /// Removes conversations' messages, security events and usage buckets older than `cutoff`, and
    /// connections, counters and blocks past their expiry.
    func purge(before cutoff: Date, now: Date) async throws -> PurgeResult
}

extension Store {
    /// The steps one after another, each atomic on its own.
    public func admit(_ admission: MessageAdmission) async throws -> AdmissionOutcome {
        try await admitStepByStep(admission)
    }

    /// `admit(_:)` as separate store calls, one after another, each atomic on its own: what a store
    /// that has no faster way for some admission falls back to.
    public func admitStepByStep(_ admission: MessageAdmission) async throws -> AdmissionOutcome {
        if let until = try await blockedUntil(admission.blockKey, now: admission.now) { return .blocked(until: until) }
        var outcomes: [CounterOutcome] = []
        for counter in admission.counters {
            let outcome = try await increment(counter.key, limit: counter.limit, expiresAt: counter.expiresAt)
            outcomes.append(outcome)
            if case .refused = outcome {
                for taken in admission.counters[..<(outcomes.count - 1)] { try await decrement(taken.key) }
                return .refusedByCounter(outcomes)
            }
        }
        if let claim = admission.interval,
           let remaining = try await claimInterval(claim.key, now: admission.now, interval: claim.interval, expiresAt: claim.expiresAt) {
            for taken in admission.counters { try await decrement(taken.key) }
            return .refusedByInterval(remaining: remaining, counters: outcomes)
        }
        guard let message = admission.message else { return .admitted(counters: outcomes, history: []) }
        if let budget = admission.budget {
            // A counter of its own beside the usage, so that concurrent admissions stay within it.
            let day = DailyUsage.day(of: message.createdAt)
            let key = "budget:\(message.widgetId):\(day)"
            if case .refused(let count) = try await increment(key, limit: budget, expiresAt: message.createdAt.addingTimeInterval(2 * 86_400)) {
                for taken in admission.counters { try await decrement(taken.key) }
                return .refusedByBudget(count: count)
            }
        }
        let history = admission.historyLimit > 0
            ? try await messages(widgetId: message.widgetId, conversationId: message.conversationId, limit: admission.historyLimit) : []
        try await appendMessage(message)
        try await recordUsage(at: message.createdAt, widgetId: message.widgetId, domain: message.domain ?? DailyUsage.unknown,
                              messages: 1, blocked: 0)
        let reply = admission.answer.map { $0.reply(history) }
        if let reply, let stored = admission.answer?.storedReply(for: reply) { try await appendMessage(stored) }
        return .admitted(counters: outcomes, history: history, reply: reply)
    }
}

/// When the invocation that a store call serves must have answered: a store retrying a throttled
/// or failed request gives up rather than retry past it, since nobody waits for the answer then
/// and the retries only add load to a store that is already refusing it. Nil: no deadline.
public enum StoreDeadline {
    @TaskLocal public static var current: Date?
}
