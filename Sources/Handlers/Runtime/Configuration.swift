/// Settings read from the environment, the way Lambda passes them. Every value has a safe default,
/// so a function starts with no configuration at all.
public struct Configuration: Sendable, Equatable {
    /// First-party origins allowed on every widget (`ALLOWED_ORIGINS`, comma-separated, plus `FRONTEND_URL`).
    public var allowedOrigins: [Origin]
    /// Whether a request with neither Origin nor Referer may use widget routes (`ALLOW_MISSING_ORIGIN`).
    public var allowMissingOrigin: Bool
    /// Chat POSTs per client IP per minute across all widgets (`IP_RATE_LIMIT_PER_MINUTE`).
    public var ipRateLimitPerMinute: Int
    /// Refusals within the cooldown period that trigger a block (`AUTO_BLOCK_AFTER_WARNINGS`).
    public var autoBlockAfterWarnings: Int
    /// Length of the refusal window and of the block (`COOLDOWN_PERIOD_MINUTES`).
    public var cooldownPeriodMinutes: Int
    /// Largest accepted request body or WebSocket message, in bytes (`MAX_BODY_BYTES`).
    public var maxBodyBytes: Int
    /// Widget used when a request names none (`DEFAULT_WIDGET_ID`), e.g. the local demo widget.
    public var defaultWidgetId: String?
    /// Overrides the `@connections` endpoint derived from the event (`WEBSOCKET_MANAGEMENT_ENDPOINT`).
    public var managementEndpoint: String?
    /// HS256 secret for admin bearer tokens (`ADMIN_JWT_SECRET`); the admin API refuses all requests without it.
    public var adminJWTSecret: String?
    /// Origin allowed to call the admin API from a browser (`ADMIN_ORIGIN`).
    public var adminOrigin: Origin?
    /// Days conversations and security events are kept (`RETENTION_DAYS`).
    public var retentionDays: Int

    public init(environment: [String: String]) {
        func int(_ name: String, _ fallback: Int, minimum: Int = 0) -> Int {
            guard let raw = environment[name], let value = Int(raw.trimmed()), value >= minimum else {
                return fallback
            }
            return value
        }
        func nonEmpty(_ name: String) -> String? {
            guard let value = environment[name]?.trimmed(), !value.isEmpty else { return nil }
            return value
        }
        var origins = (environment["ALLOWED_ORIGINS"] ?? "").split(separator: ",").compactMap { Origin(String($0)) }
        if let frontend = nonEmpty("FRONTEND_URL").flatMap(Origin.init) { origins.append(frontend) }
        allowedOrigins = origins
        allowMissingOrigin = ["true", "1", "yes"].contains(environment["ALLOW_MISSING_ORIGIN"]?.lowercased() ?? "")
        ipRateLimitPerMinute = int("IP_RATE_LIMIT_PER_MINUTE", 15, minimum: 1)
        autoBlockAfterWarnings = int("AUTO_BLOCK_AFTER_WARNINGS", 3, minimum: 1)
        cooldownPeriodMinutes = int("COOLDOWN_PERIOD_MINUTES", 5, minimum: 1)
        maxBodyBytes = int("MAX_BODY_BYTES", 131_072, minimum: 1024)
        defaultWidgetId = nonEmpty("DEFAULT_WIDGET_ID")
        managementEndpoint = nonEmpty("WEBSOCKET_MANAGEMENT_ENDPOINT")
        adminJWTSecret = nonEmpty("ADMIN_JWT_SECRET")
        adminOrigin = nonEmpty("ADMIN_ORIGIN").flatMap(Origin.init)
        retentionDays = int("RETENTION_DAYS", 30, minimum: 1)
    }
}
