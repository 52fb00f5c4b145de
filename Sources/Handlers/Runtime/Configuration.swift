import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
    /// HS256 secret for admin bearer tokens (`ADMIN_JWT_SECRET`); the admin API refuses all requests
    /// without it, or with one shorter than `AdminToken.minimumSecretBytes`.
    public var adminJWTSecret: String?
    /// The longest an admin token may live, `exp` minus `iat` (or minus now without `iat`), in seconds
    /// (`ADMIN_TOKEN_MAX_LIFETIME_SECONDS`, default 24 hours).
    public var adminTokenMaxLifetime: TimeInterval
    /// The `iss` admin tokens must carry (`ADMIN_JWT_ISSUER`); unchecked when unset.
    public var adminJWTIssuer: String?
    /// The audience admin tokens' `aud` must name (`ADMIN_JWT_AUDIENCE`); unchecked when unset.
    public var adminJWTAudience: String?
    /// Origin allowed to call the admin API from a browser (`ADMIN_ORIGIN`).
    public var adminOrigin: Origin?
    /// Days conversations and security events are kept (`RETENTION_DAYS`).
    public var retentionDays: Int
    /// The daily message budget of a widget that sets none (`WIDGET_DAILY_MESSAGE_BUDGET`; 0, the
    /// default, sets none): see `WidgetLimits.dailyMessageBudget`.
    public var widgetDailyMessageBudget: Int
    /// Keys the conversation a WebSocket connection holds when its frames carry no token
    /// (`ConversationToken.boundTo`): `CONVERSATION_TOKEN_SECRET`, else derived from `ADMIN_JWT_SECRET`,
    /// else a key of this process's own. Every instance of a function must share it for a connection's
    /// frames to reach one conversation whichever instance runs them; without it, a connection's
    /// messages may start over, but never reach another client's conversation.
    public var conversationKey: [UInt8]

    /// Drawn once per process, so that configurations read from one environment stay equal.
    private static let processConversationKey: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }()

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
        adminTokenMaxLifetime = TimeInterval(int("ADMIN_TOKEN_MAX_LIFETIME_SECONDS", 86_400, minimum: 1))
        adminJWTIssuer = nonEmpty("ADMIN_JWT_ISSUER")
        adminJWTAudience = nonEmpty("ADMIN_JWT_AUDIENCE")
        adminOrigin = nonEmpty("ADMIN_ORIGIN").flatMap(Origin.init)
        retentionDays = int("RETENTION_DAYS", 30, minimum: 1)
        widgetDailyMessageBudget = int("WIDGET_DAILY_MESSAGE_BUDGET", 0)
        if let secret = nonEmpty("CONVERSATION_TOKEN_SECRET") {
            conversationKey = Array(SHA256.hash(data: Array(secret.utf8)))
        } else if let admin = adminJWTSecret {
            // A key of its own for conversations: knowing it must not help forge admin tokens.
            conversationKey = Array(HMAC<SHA256>.authenticationCode(for: Array("conversation tokens".utf8),
                                                                    using: SymmetricKey(data: Array(admin.utf8))))
        } else {
            conversationKey = Self.processConversationKey
        }
    }
}
