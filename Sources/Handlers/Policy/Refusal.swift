#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The error codes of the public chat contract (the table in docs/protocol.md), with their HTTP statuses.
public enum ErrorCode: String, Codable, Sendable, CaseIterable {
    case invalidRequest = "invalid_request"
    case messageTooLong = "message_too_long"
    case contentFiltered = "content_filtered"
    case domainNotAuthorized = "domain_not_authorized"
    case widgetNotFoundOrInactive = "widget_not_found_or_inactive"
    case payloadTooLarge = "payload_too_large"
    case rateLimitExceeded = "rate_limit_exceeded"
    case temporarilyBlocked = "temporarily_blocked"
    case processingError = "processing_error"

    public var status: Int {
        switch self {
        case .invalidRequest, .messageTooLong, .contentFiltered: 400
        case .domainNotAuthorized: 403
        case .widgetNotFoundOrInactive: 404
        case .payloadTooLarge: 413
        case .rateLimitExceeded, .temporarilyBlocked: 429
        case .processingError: 502
        }
    }
}

/// A request the widget policy turned away: what the client is told, over HTTP or WebSocket alike.
public struct Refusal: Error, Sendable, Equatable {
    public var code: ErrorCode
    /// Words for the person typing, never internal detail.
    public var message: String
    /// Whole seconds until trying again makes sense.
    public var retryAfter: Int?
    public var blockExpiresAt: Date?

    public init(_ code: ErrorCode, _ message: String, retryAfter: Int? = nil, blockExpiresAt: Date? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.blockExpiresAt = blockExpiresAt
    }

    public static func invalidRequest(_ message: String) -> Refusal { Refusal(.invalidRequest, message) }

    /// The friendly fallback a user sees when the AI provider fails.
    public static let providerFailed = Refusal(
        .processingError, "Sorry, I'm having trouble answering right now. Please try again in a moment."
    )
}
