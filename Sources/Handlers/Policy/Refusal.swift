/// The error codes of the public chat contract (SPEC §3.2), with their HTTP statuses.
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

/// ISO-8601 timestamps as the API writes them (`2026-01-02T03:04:05Z`).
public enum ISO8601 {
    /// `2025-11-25T16:00:00Z`: what `Date.ISO8601FormatStyle` writes (fractions of a second dropped),
    /// written from the UTC calendar fields by hand for the years 1600 to 9999. The format style built
    /// a calendar on every call (2% of replaying events/: admin listings write a time per event); other
    /// dates still go through it (before the Gregorian reform of 1582 it counts Julian days).
    public static func string(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        // 1600-01-01 and 10000-01-01 in seconds since 1970.
        guard seconds >= -11_676_096_000, seconds < 253_402_300_800 else {
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
        }
        let (days, secondOfDay) = Int(seconds).quotientAndRemainder(dividingBy: 86_400)
        let (day, second) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        let civil = CivilDate(daysSinceEpoch: day)
        return String(unsafeUninitializedCapacity: 20) { output in
            var written = 0
            func digits(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                for _ in 0..<width {
                    output[written] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    written += 1
                    divisor /= 10
                }
            }
            func literal(_ byte: UInt8) {
                output[written] = byte
                written += 1
            }
            digits(civil.year, 4); literal(UInt8(ascii: "-")); digits(civil.month, 2); literal(UInt8(ascii: "-")); digits(civil.day, 2)
            literal(UInt8(ascii: "T")); digits(second / 3600, 2); literal(UInt8(ascii: ":")); digits(second / 60 % 60, 2)
            literal(UInt8(ascii: ":")); digits(second % 60, 2); literal(UInt8(ascii: "Z"))
            return written
        }
    }

    public static func stringWithMilliseconds(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
