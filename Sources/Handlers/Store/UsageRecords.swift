#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One UTC day of traffic for one widget from one domain: what usage analytics add up. Counting
/// into day buckets as requests happen keeps analytics a read of at most 30 small partitions, where
/// counting stored messages would read every conversation of the period.
public struct DailyUsage: Codable, Sendable, Equatable {
    /// `YYYY-MM-DD` in UTC.
    public var day: String
    public var widgetId: String
    /// The normalised host requests came from, or `-` when they named none.
    public var domain: String
    /// Chat messages admitted (one per user turn).
    public var messages: Int
    /// Requests refused by the widget policy (each recorded as a security event).
    public var blocked: Int

    public init(day: String, widgetId: String, domain: String, messages: Int, blocked: Int) {
        self.day = day
        self.widgetId = widgetId
        self.domain = domain
        self.messages = messages
        self.blocked = blocked
    }

    enum CodingKeys: String, CodingKey {
        case day, domain, messages, blocked
        case widgetId = "widget_id"
    }

    /// The bucket key of `date`: its UTC calendar day, computed from the epoch day number
    /// (proleptic Gregorian civil-from-days), without a calendar object per request.
    public static func day(of date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let date = CivilDate(daysSinceEpoch: days)
        return "\(CivilDate.padded(date.year, 4))-\(CivilDate.padded(date.month, 2))-\(CivilDate.padded(date.day, 2))"
    }

    /// The widget or domain placeholder for requests that named none.
    public static let unknown = "-"
}

/// What a retention purge removed. DynamoDB expires the same records by TTL instead, at its own
/// pace (typically within a few days of expiry), and reports `expiresByTTL`.
public struct PurgeResult: Codable, Sendable, Equatable {
    public var messages: Int
    public var securityEvents: Int
    public var usageBuckets: Int
    public var expiresByTTL: Bool

    public init(messages: Int, securityEvents: Int, usageBuckets: Int, expiresByTTL: Bool = false) {
        self.messages = messages
        self.securityEvents = securityEvents
        self.usageBuckets = usageBuckets
        self.expiresByTTL = expiresByTTL
    }

    enum CodingKeys: String, CodingKey {
        case messages
        case securityEvents = "security_events"
        case usageBuckets = "usage_buckets"
        case expiresByTTL = "expires_by_ttl"
    }
}

extension DailyUsage: JSONValueEncodable {
    /// As `JSONCoding.encoder` writes the bucket, by hand (exports and analytics list them).
    public var jsonValue: JSONValue {
        .object(["day": .string(day), "widget_id": .string(widgetId), "domain": .string(domain), "messages": messages.jsonValue,
                 "blocked": blocked.jsonValue])
    }
}
