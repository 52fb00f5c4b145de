#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Records refusals as security events with what the request actually showed: the raw origin, the
/// client IP and user agent, since a refusal logged without the origin that was seen cannot be told
/// apart from a misconfigured allowlist.
///
/// Refusals must cost an attacker more than they cost us, so every refusal
/// - counts towards the automatic block (`AUTO_BLOCK_AFTER_WARNINGS` within
///   `COOLDOWN_PERIOD_MINUTES`) of its client, whatever its kind and whichever widget it named;
/// - joins the event of its type from the same client network in the current `aggregationWindow`:
///   a flood writes one row per type and window, with a count and a sample of the widget ids and
///   origins it named, while a refusal of another type or from another client gets a row of its own;
/// - is counted in the day's usage under its widget and domain only when they are real (a widget
///   that exists, an origin a widget allows), so that names an attacker makes up add no rows.
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
        public let sourceIp: String
        /// The network limits and blocks are keyed by (an IPv4 address, an IPv6 /64), read once from
        /// `sourceIp`: a refusal's event, warning and block all key on it.
        public let network: ClientNetwork
        public var userAgent: String?
        /// Distinguishes the events of one request from another's (the API Gateway request id).
        public var requestId: String
        /// Whether `widgetId` names a widget that exists: set once `WidgetGate` has found it.
        public var widgetFound = false
        /// Whether the request's origin is one a widget (or the first-party list) allows: set once
        /// `WidgetGate` has checked it.
        public var originAllowed = false

        public init(widgetId: String?, origin: RequestOrigin, sourceIp: String, userAgent: String?, requestId: String) {
            self.widgetId = widgetId
            self.origin = origin
            self.sourceIp = sourceIp
            network = ClientNetwork(sourceIp: sourceIp)
            self.userAgent = userAgent
            self.requestId = requestId
        }

        /// Whom the automatic block applies to: the client's network together with its origin when
        /// a widget allows that origin, else with every origin no widget allows. Browsers cannot
        /// forge `Origin`, so a page elsewhere that makes its visitors' browsers send refused
        /// requests (a cross-site form post, a preflight, a WebSocket) blocks them only for its own
        /// origin, never on the sites whose widgets they use; a script can claim any origin, and the
        /// only origins that get it answers are allowed ones, each of which it gets blocked on.
        public var blockSubject: String {
            "\(network)|" + (originAllowed ? origin.origin?.description ?? "no-origin" : "not-allowed")
        }

        /// The key of the automatic block on `blockSubject`.
        public var blockKey: String { "block:" + blockSubject }
    }

    /// Records a refused request: its event, a blocked request in the day's usage and, unless the
    /// client is refused for being blocked already, a warning against its `blockSubject`. Returns
    /// when the block that this refusal started ends (recorded as a `blocked` event too), or nil.
    /// The invocation's telemetry counts the refusal by type (and a block that it starts).
    @discardableResult
    public func refuse(_ type: SecurityEventType, client: Client, details: [String: String]) async throws -> Date? {
        InvocationTelemetry.refused(type, widgetId: client.widgetFound ? client.widgetId : nil)
        let now = clock.now()
        let event = self.event(type, client: client, details: details, at: now)
        try await store.recordSecurityEvent(event)
        try await store.recordUsage(at: now, widgetId: client.widgetFound ? client.widgetId ?? DailyUsage.unknown : DailyUsage.unknown,
                                    domain: client.originAllowed ? event.domain ?? DailyUsage.unknown : DailyUsage.unknown,
                                    messages: 0, blocked: 1)
        guard type != .blocked else { return nil }
        return try await warn(client: client, now: now)
    }

    /// Counts a warning against the client's `blockSubject`; the warning that reaches
    /// `AUTO_BLOCK_AFTER_WARNINGS` within the cooldown period blocks it for that period.
    private func warn(client: Client, now: Date) async throws -> Date? {
        let cooldown = Int64(configuration.cooldownPeriodMinutes) * 60
        let (start, end) = RateLimiter.window(containing: now, seconds: cooldown)
        let outcome = try await store.increment("warn:\(client.blockSubject):\(start)", limit: Int.max,
                                                expiresAt: Date(timeIntervalSince1970: TimeInterval(end + 60)))
        guard case .admitted(let count) = outcome, count == configuration.autoBlockAfterWarnings else { return nil }
        let until = now.addingTimeInterval(TimeInterval(cooldown))
        try await store.block(client.blockKey, until: until)
        InvocationTelemetry.count(.blocksStarted)
        // The block starts because of the refusal just recorded: one refused request, not two.
        try await store.recordSecurityEvent(event(.blocked, client: client,
                                                  details: ["block_expires_at": ISO8601.string(until), "reason": "auto_block"], at: now))
        return until
    }

    private func event(_ type: SecurityEventType, client: Client, details: [String: String], at now: Date) -> SecurityEvent {
        let (windowStart, _) = RateLimiter.window(containing: now, seconds: Self.aggregationWindow)
        let limits = SecurityEvent.TextLimits.self
        let widgetId = client.widgetId.map { String($0.prefix(limits.widgetId)) }
        let origin = client.origin.raw.map { String($0.prefix(limits.origin)) }
        return SecurityEvent(
            id: "\(windowStart * 1000)-\(type.rawValue)-\(client.network)",
            type: type,
            widgetId: widgetId,
            origin: origin,
            domain: client.origin.origin.map { String($0.host.prefix(limits.origin)) },
            sourceIp: String(client.sourceIp.prefix(64)),
            userAgent: client.userAgent.map { String($0.prefix(limits.userAgent)) },
            details: details.mapValues { String($0.prefix(limits.detail)) },
            createdAt: now,
            sampleWidgetIds: widgetId.map { [String($0.prefix(limits.sample))] } ?? [],
            sampleOrigins: origin.map { [String($0.prefix(limits.sample))] } ?? []
        )
    }

}
