/// Writes security events (SPEC §4.5) with what the request actually showed: the raw origin, the
/// client IP and user agent. Seed 001's outage took hours to diagnose because refusals were logged
/// without the origin that was seen.
public struct SecurityEventRecorder: Sendable {
    public var store: any Store
    public var clock: any WallClock

    public init(store: any Store, clock: any WallClock) {
        self.store = store
        self.clock = clock
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

    /// Stores the event and, when it stands for a refused request (`countsAsRefusal`), counts it in
    /// the day's usage as a blocked request.
    public func record(_ type: SecurityEventType, client: Client, details: [String: String], countsAsRefusal: Bool = true) async throws {
        let now = clock.now()
        let event = SecurityEvent(
            id: "\(Int64(now.timeIntervalSince1970 * 1000))-\(type.rawValue)-\(client.requestId)",
            type: type,
            widgetId: client.widgetId,
            origin: client.origin.raw.map { String($0.prefix(512)) },
            domain: client.origin.origin?.host,
            sourceIp: client.sourceIp,
            userAgent: client.userAgent.map { String($0.prefix(512)) },
            details: details,
            createdAt: now
        )
        try await store.recordSecurityEvent(event)
        if countsAsRefusal {
            try await store.recordUsage(at: now, widgetId: client.widgetId ?? DailyUsage.unknown,
                                        domain: event.domain ?? DailyUsage.unknown, messages: 0, blocked: 1)
        }
    }
}
