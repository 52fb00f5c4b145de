#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a client may still do today, returned with every admitted chat message.
public struct Usage: Sendable, Equatable, Codable, JSONValueEncodable {
    public var messagesRemainingToday: Int
    public var resetAt: Date

    enum CodingKeys: String, CodingKey {
        case messagesRemainingToday = "messages_remaining_today"
        case resetAt = "reset_at"
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }

    public var jsonValue: JSONValue {
        .object(["messages_remaining_today": messagesRemainingToday.jsonValue, "reset_at": .string(ISO8601.string(resetAt))])
    }
}

/// Server-side limits per widget and client IP (README, "Security model"): fixed minute, hour and day windows, the
/// minimum interval between messages, an optional per-IP limit across widgets, and the client IP's
/// automatic block (which `SecurityEventRecorder` imposes after repeated refusals of any kind).
///
/// Every check is one atomic store operation, and the checks with the message they admit are one
/// store call (`Store.admit`). A later refusal takes back the increments of the checks before it,
/// so a refused message never uses up quota.
public struct RateLimiter: Sendable {
    public var store: any Store
    public var configuration: Configuration

    public init(store: any Store, configuration: Configuration) {
        self.store = store
        self.configuration = configuration
    }

    /// A refusal together with the security-event detail that explains it.
    public struct Denial: Error, Sendable, Equatable {
        public var refusal: Refusal
        public var eventType: SecurityEventType
        public var limitType: String
    }

    private struct Window {
        let name: String
        let seconds: Int64
        let limit: Int
    }

    /// What an admitted message comes with: the client's quota, the stored conversation before it,
    /// and the reply of the admission's `answer`, if it had one.
    public struct Admitted: Sendable, Equatable {
        public var usage: Usage
        public var history: [StoredMessage]
        public var reply: String?
    }

    /// Admits one message from `client` (keyed by its network) to `widget` at `now`, or says why not
    /// (a block on the client's `blockKey` included, and the widget's daily budget for a `message`).
    /// An admitted `message` is stored in the same store call (with the conversation's last
    /// `historyLimit` messages returned), followed by the reply of `answer` when the provider has it
    /// at once; nil checks the limits only.
    public func admit(widget: WidgetConfig, client: SecurityEventRecorder.Client, now: Date, perIPLimit: Bool,
                      message: StoredMessage? = nil, answer: ImmediateAnswer? = nil,
                      historyLimit: Int = 0) async throws -> Result<Admitted, Denial> {
        let network = client.network.description
        let subject = "\(widget.widgetId):\(network)"
        // The client's windows on this widget and its interval are one scope: a store may check and
        // count them in one write. The per-IP limit across widgets is a subject of its own.
        let scope = "limits:\(subject)"
        var windows: [(key: String, window: Window)] = []
        if perIPLimit {
            windows.append((key: "ip:\(network)", window: Window(name: "ip_per_minute", seconds: 60, limit: configuration.ipRateLimitPerMinute)))
        }
        let limits = widget.limits
        windows += [
            (key: "count:\(subject)", window: Window(name: "per_minute", seconds: 60, limit: limits.maxMessagesPerMinute)),
            (key: "count:\(subject)", window: Window(name: "per_hour", seconds: 3600, limit: limits.maxMessagesPerHour)),
            (key: "count:\(subject)", window: Window(name: "per_day", seconds: 86400, limit: limits.maxMessagesPerDay)),
        ]
        let counters = windows.map { prefix, window in
            let (start, end) = Self.window(containing: now, seconds: window.seconds)
            return (window: window, end: end,
                    increment: CounterIncrement(key: "\(prefix):\(window.name):\(start)", limit: window.limit,
                                                expiresAt: Date(timeIntervalSince1970: TimeInterval(end + 60)),
                                                scope: window.name == "ip_per_minute" ? nil : scope))
        }
        var interval: IntervalClaim?
        if limits.minMessageIntervalMs > 0 {
            let seconds = TimeInterval(limits.minMessageIntervalMs) / 1000
            interval = IntervalClaim(key: "interval:\(subject)", interval: seconds, expiresAt: now.addingTimeInterval(seconds + 60),
                                     scope: scope)
        }
        let admission = MessageAdmission(blockKey: client.blockKey, now: now, counters: counters.map(\.increment), interval: interval,
                                         message: message, answer: answer, historyLimit: historyLimit, budget: budget(of: widget))

        func refuse(_ limitType: String, _ message: String, retryAfter: Int) -> Result<Admitted, Denial> {
            let refusal = Refusal(.rateLimitExceeded, message, retryAfter: max(1, retryAfter))
            return .failure(Denial(refusal: refusal, eventType: .rateLimit, limitType: limitType))
        }
        switch try await store.admit(admission) {
        case .blocked(let until):
            let refusal = Refusal(.temporarilyBlocked, "Too many refused requests. Please wait before trying again.",
                                  retryAfter: Self.seconds(from: now, to: until), blockExpiresAt: until)
            return .failure(Denial(refusal: refusal, eventType: .blocked, limitType: "blocked"))
        case .refusedByCounter(let outcomes):
            let refused = counters[max(0, min(outcomes.count, counters.count) - 1)]
            let retry = Int(refused.end - Int64(now.timeIntervalSince1970.rounded(.down)))
            return refuse(refused.window.name, Self.message(for: refused.window.name), retryAfter: retry)
        case .refusedByInterval(let remaining, _):
            return refuse("interval", "Please wait a moment before sending another message.",
                                    retryAfter: Int(remaining.rounded(.up)))
        case .refusedByBudget:
            let dayEnd = Self.window(containing: now, seconds: 86400).end
            return refuse("widget_daily_budget", "This chat has answered all the messages it can today. Please come back tomorrow.",
                          retryAfter: Int(dayEnd - Int64(now.timeIntervalSince1970.rounded(.down))))
        case .admitted(let outcomes, let history, let reply):
            var dayCount = 0
            for (counter, outcome) in zip(counters, outcomes) where counter.window.name == "per_day" {
                if case .admitted(let count) = outcome { dayCount = count }
            }
            let dayEnd = Self.window(containing: now, seconds: 86400).end
            let usage = Usage(messagesRemainingToday: max(0, limits.maxMessagesPerDay - dayCount),
                              resetAt: Date(timeIntervalSince1970: TimeInterval(dayEnd)))
            return .success(Admitted(usage: usage, history: history, reply: reply))
        }
    }

    /// The widget's daily message budget: its own, else the deployment's; nil when that is 0 or less.
    func budget(of widget: WidgetConfig) -> Int? {
        let budget = widget.limits.dailyMessageBudget ?? configuration.widgetDailyMessageBudget
        return budget > 0 ? budget : nil
    }

    static func window(containing date: Date, seconds: Int64) -> (start: Int64, end: Int64) {
        let epoch = Int64(date.timeIntervalSince1970.rounded(.down))
        let start = epoch - ((epoch % seconds) + seconds) % seconds
        return (start, start + seconds)
    }

    static func seconds(from now: Date, to end: Date) -> Int {
        max(1, Int(end.timeIntervalSince(now).rounded(.up)))
    }

    private static func message(for window: String) -> String {
        switch window {
        case "ip_per_minute": "Too many requests from your network. Please wait a minute."
        case "per_minute": "You're sending messages too quickly. Please wait a minute."
        case "per_hour": "Hourly message limit reached. Please try again later."
        default: "Daily message limit reached. Please come back tomorrow."
        }
    }
}
