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

/// Server-side limits per widget and client IP (SPEC §4.3): fixed minute, hour and day windows, the
/// minimum interval between messages, an optional per-IP limit across widgets, and an automatic
/// block after repeated refusals.
///
/// Every check is one atomic store operation. A later refusal takes back the increments of the
/// checks before it, so a refused message never uses up quota.
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
        /// Set when this refusal triggered an automatic block lasting until then.
        public var autoBlockedUntil: Date?
    }

    private struct Window {
        let name: String
        let seconds: Int64
        let limit: Int
    }

    /// Admits one message from `ip` to `widget` at `now`, or says why not.
    public func admit(widget: WidgetConfig, ip: String, now: Date, perIPLimit: Bool) async throws -> Result<Usage, Denial> {
        let subject = "\(widget.widgetId):\(ip)"
        if let until = try await store.blockedUntil("block:\(subject)", now: now) {
            let refusal = Refusal(.temporarilyBlocked, "Too many refused requests. Please wait before trying again.",
                                  retryAfter: Self.seconds(from: now, to: until), blockExpiresAt: until)
            return .failure(Denial(refusal: refusal, eventType: .blocked, limitType: "blocked"))
        }

        var taken: [String] = []
        func refuse(_ limitType: String, _ message: String, retryAfter: Int) async throws -> Result<Usage, Denial> {
            for key in taken { try await store.decrement(key) }
            let refusal = Refusal(.rateLimitExceeded, message, retryAfter: max(1, retryAfter))
            return .failure(try await warn(subject: subject, now: now, denial: Denial(refusal: refusal, eventType: .rateLimit, limitType: limitType)))
        }

        var windows: [(key: String, window: Window)] = []
        if perIPLimit {
            windows.append((key: "ip:\(ip)", window: Window(name: "ip_per_minute", seconds: 60, limit: configuration.ipRateLimitPerMinute)))
        }
        let limits = widget.limits
        windows += [
            (key: "count:\(subject)", window: Window(name: "per_minute", seconds: 60, limit: limits.maxMessagesPerMinute)),
            (key: "count:\(subject)", window: Window(name: "per_hour", seconds: 3600, limit: limits.maxMessagesPerHour)),
            (key: "count:\(subject)", window: Window(name: "per_day", seconds: 86400, limit: limits.maxMessagesPerDay)),
        ]
        var dayCount = 0
        // The windows' counters go to the store as one batch (one transaction in SQLite), in order,
        // stopping at the first refusal, as one increment after another would.
        let counters = windows.map { prefix, window in
            let (start, end) = Self.window(containing: now, seconds: window.seconds)
            return (window: window, end: end,
                    increment: CounterIncrement(key: "\(prefix):\(window.name):\(start)", limit: window.limit,
                                                expiresAt: Date(timeIntervalSince1970: TimeInterval(end + 60))))
        }
        let outcomes = try await store.increment(counters.map(\.increment))
        for (counter, outcome) in zip(counters, outcomes) {
            let window = counter.window
            switch outcome {
            case .admitted(let count):
                taken.append(counter.increment.key)
                if window.name == "per_day" { dayCount = count }
            case .refused:
                let retry = Int(counter.end - Int64(now.timeIntervalSince1970.rounded(.down)))
                return try await refuse(window.name, Self.message(for: window.name), retryAfter: retry)
            }
        }

        if limits.minMessageIntervalMs > 0 {
            let interval = TimeInterval(limits.minMessageIntervalMs) / 1000
            if let remaining = try await store.claimInterval(
                "interval:\(subject)", now: now, interval: interval, expiresAt: now.addingTimeInterval(interval + 60)
            ) {
                return try await refuse("interval", "Please wait a moment before sending another message.",
                                        retryAfter: Int(remaining.rounded(.up)))
            }
        }

        let dayEnd = Self.window(containing: now, seconds: 86400).end
        return .success(Usage(messagesRemainingToday: max(0, limits.maxMessagesPerDay - dayCount),
                              resetAt: Date(timeIntervalSince1970: TimeInterval(dayEnd))))
    }

    /// Counts a refusal against `subject`; the refusal that reaches `AUTO_BLOCK_AFTER_WARNINGS`
    /// within the cooldown period blocks the subject for that period.
    public func warn(subject: String, now: Date, denial: Denial) async throws -> Denial {
        let cooldown = Int64(configuration.cooldownPeriodMinutes) * 60
        let (start, end) = Self.window(containing: now, seconds: cooldown)
        let key = "warn:\(subject):\(start)"
        let outcome = try await store.increment(key, limit: Int.max, expiresAt: Date(timeIntervalSince1970: TimeInterval(end + 60)))
        guard case .admitted(let count) = outcome, count == configuration.autoBlockAfterWarnings else { return denial }
        let until = now.addingTimeInterval(TimeInterval(cooldown))
        try await store.block("block:\(subject)", until: until)
        var blocked = denial
        blocked.autoBlockedUntil = until
        return blocked
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
