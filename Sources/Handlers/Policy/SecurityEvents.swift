/// Records refusals as security events (SPEC §4.5) with what the request actually showed: the raw
/// origin, the client IP and user agent. Seed 001's outage took hours to diagnose because refusals
/// were logged without the origin that was seen.
///
/// Refusals must cost an attacker more than they cost us, so every refusal
/// - counts towards the client IP's automatic block (`AUTO_BLOCK_AFTER_WARNINGS` within
///   `COOLDOWN_PERIOD_MINUTES`), whatever its kind and whichever widget it named;
/// - joins the event of its type from the same IP in the current `aggregationWindow`: a flood
///   writes one row per type and window, with a count and a sample of the widget ids and origins it
///   named, while a refusal of another type or from another IP still gets a row of its own.
public struct SecurityEventRecorder: Sendable {
    public var store: any Store
    public var clock: any WallClock
    public var configuration: Configuration

    /// Seconds over which the refusals of one type from one IP are one event.
    public static let aggregationWindow: Int64 = 60

    public init(store: any Store, clock: any WallClock, configuration: Configuration) {
        self.store = store
        self.clock = clock
        self.configuration = configuration
    }

    /// The facts about the client common to every event of one request.
    public struct Client: Sendable {
        public var widgetId: String?
        public var origin: RequestOrigin
        public var sourceIp: String
        public var userAgent: String?
        /// Distinguishes the events of one request from another's (the API Gateway request id).
        public var requestId: String

        public init(widgetId: String?, origin: RequestOrigin, sourceIp: String, userAgent: String?, requestId: String) {
            self.widgetId = widgetId
            self.origin = origin
            self.sourceIp = sourceIp
            self.userAgent = userAgent
            self.requestId = requestId
        }
    }

    /// The key of the automatic block on a client IP.
    public static func blockKey(ip: String) -> String { "block:ip:\(ip)" }

    /// Records a refused request: its event, a blocked request in the day's usage and, unless the
    /// client is refused for being blocked already, a warning against its IP. Returns when the
    /// block that this refusal started ends (recorded as a `blocked` event too), or nil.
    @discardableResult
    public func refuse(_ type: SecurityEventType, client: Client, details: [String: String]) async throws -> Date? {
        let now = clock.now()
        let event = self.event(type, client: client, details: details, at: now)
        try await store.recordSecurityEvent(event)
        try await store.recordUsage(at: now, widgetId: client.widgetId ?? DailyUsage.unknown,
                                    domain: event.domain ?? DailyUsage.unknown, messages: 0, blocked: 1)
        guard type != .blocked else { return nil }
        return try await warn(client: client, now: now)
    }

    /// Counts a warning against the client's IP; the warning that reaches `AUTO_BLOCK_AFTER_WARNINGS`
    /// within the cooldown period blocks the IP for that period.
    private func warn(client: Client, now: Date) async throws -> Date? {
        let cooldown = Int64(configuration.cooldownPeriodMinutes) * 60
        let (start, end) = RateLimiter.window(containing: now, seconds: cooldown)
        let outcome = try await store.increment("warn:ip:\(client.sourceIp):\(start)", limit: Int.max,
                                                expiresAt: Date(timeIntervalSince1970: TimeInterval(end + 60)))
        guard case .admitted(let count) = outcome, count == configuration.autoBlockAfterWarnings else { return nil }
        let until = now.addingTimeInterval(TimeInterval(cooldown))
        try await store.block(Self.blockKey(ip: client.sourceIp), until: until)
        // The block starts because of the refusal just recorded: one refused request, not two.
        try await store.recordSecurityEvent(event(.blocked, client: client,
                                                  details: ["block_expires_at": ISO8601.string(until), "reason": "auto_block"], at: now))
        return until
    }

    private func event(_ type: SecurityEventType, client: Client, details: [String: String], at now: Date) -> SecurityEvent {
        let (windowStart, _) = RateLimiter.window(containing: now, seconds: Self.aggregationWindow)
        return SecurityEvent(
            id: "\(windowStart * 1000)-\(type.rawValue)-\(Self.clientKey(client.sourceIp))",
            type: type,
            widgetId: client.widgetId.map { String($0.prefix(100)) },
            origin: client.origin.raw.map { String($0.prefix(512)) },
            domain: client.origin.origin?.host,
            sourceIp: String(client.sourceIp.prefix(64)),
            userAgent: client.userAgent.map { String($0.prefix(512)) },
            details: details,
            createdAt: now
        )
    }

    /// The IP as it is when it looks like one (what API Gateway sends), else a hash of it: event ids
    /// stay short and free of separators whatever a fixture or a proxy put there.
    static func clientKey(_ ip: String) -> String {
        let looksLikeIP = (1...45).contains(ip.utf8.count) && ip.utf8.allSatisfy { byte in
            byte.isASCIIDigit || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }
        if looksLikeIP { return ip }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ip.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return "h" + String(hash, radix: 16)
    }
}
