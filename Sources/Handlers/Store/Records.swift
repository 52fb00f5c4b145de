#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Per-widget limits; the defaults are the ones the README's "Security model" documents.
public struct WidgetLimits: Codable, Sendable, Equatable {
    public var maxMessagesPerMinute: Int = 10
    public var maxMessagesPerHour: Int = 600
    public var maxMessagesPerDay: Int = 1000
    public var maxMessageLength: Int = 2000
    public var minMessageIntervalMs: Int = 2000
    public var maxConversationLength: Int = 100
    public var sessionTimeoutMinutes: Int = 30
    /// The most messages the widget answers in a UTC day, from every client together: a cap on
    /// what it can spend, whoever sends. Nil takes the deployment's `WIDGET_DAILY_MESSAGE_BUDGET`;
    /// 0 (or less) sets none.
    public var dailyMessageBudget: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case maxMessagesPerMinute = "max_messages_per_minute"
        case maxMessagesPerHour = "max_messages_per_hour"
        case maxMessagesPerDay = "max_messages_per_day"
        case maxMessageLength = "max_message_length"
        case minMessageIntervalMs = "min_message_interval_ms"
        case maxConversationLength = "max_conversation_length"
        case sessionTimeoutMinutes = "session_timeout_minutes"
        case dailyMessageBudget = "daily_message_budget"
    }

    /// Missing keys keep their defaults, so a partial `limits` object in an admin request is valid.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WidgetLimits()
        maxMessagesPerMinute = try c.decodeIfPresent(Int.self, forKey: .maxMessagesPerMinute) ?? d.maxMessagesPerMinute
        maxMessagesPerHour = try c.decodeIfPresent(Int.self, forKey: .maxMessagesPerHour) ?? d.maxMessagesPerHour
        maxMessagesPerDay = try c.decodeIfPresent(Int.self, forKey: .maxMessagesPerDay) ?? d.maxMessagesPerDay
        maxMessageLength = try c.decodeIfPresent(Int.self, forKey: .maxMessageLength) ?? d.maxMessageLength
        minMessageIntervalMs = try c.decodeIfPresent(Int.self, forKey: .minMessageIntervalMs) ?? d.minMessageIntervalMs
        maxConversationLength = try c.decodeIfPresent(Int.self, forKey: .maxConversationLength) ?? d.maxConversationLength
        sessionTimeoutMinutes = try c.decodeIfPresent(Int.self, forKey: .sessionTimeoutMinutes) ?? d.sessionTimeoutMinutes
        dailyMessageBudget = try c.decodeIfPresent(Int.self, forKey: .dailyMessageBudget)
    }
}

/// A fact the embedded responder can answer from, and that the AI provider gets in its system prompt.
public struct KnowledgeEntry: Codable, Sendable, Equatable {
    public var question, answer: String

    public init(question: String, answer: String) {
        self.question = question
        self.answer = answer
    }
}

/// What a widget says and how it looks; everything optional so that partial configs stay valid.
public struct WidgetSettings: Codable, Sendable, Equatable {
    public var greeting: String?
    public var systemPrompt: String?
    public var knowledge: [KnowledgeEntry]
    public var colors: [String: String]
    /// Keyword rules refused as `content_filtered`, per widget; off unless the widget opts in.
    public var blockedKeywords: [String]
    /// The agent the widget answers for, as legacy clients name it (`agent_id`): kept and
    /// returned for them; replies do not depend on it.
    public var agentId: String?

    public init(greeting: String? = nil, systemPrompt: String? = nil, knowledge: [KnowledgeEntry] = [],
                colors: [String: String] = [:], blockedKeywords: [String] = [], agentId: String? = nil) {
        self.greeting = greeting
        self.systemPrompt = systemPrompt
        self.knowledge = knowledge
        self.colors = colors
        self.blockedKeywords = blockedKeywords
        self.agentId = agentId
    }

    enum CodingKeys: String, CodingKey {
        case greeting, knowledge, colors
        case systemPrompt = "system_prompt"
        case blockedKeywords = "blocked_keywords"
        case agentId = "agent_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        greeting = try c.decodeIfPresent(String.self, forKey: .greeting)
        systemPrompt = try c.decodeIfPresent(String.self, forKey: .systemPrompt)
        knowledge = try c.decodeIfPresent([KnowledgeEntry].self, forKey: .knowledge) ?? []
        colors = try c.decodeIfPresent([String: String].self, forKey: .colors) ?? [:]
        blockedKeywords = try c.decodeIfPresent([String].self, forKey: .blockedKeywords) ?? []
        agentId = try c.decodeIfPresent(String.self, forKey: .agentId)
    }
}

/// A widget's configuration, as the admin API reads and writes it (docs/openapi.yaml).
public struct WidgetConfig: Codable, Sendable, Equatable {
    public var widgetId: String
    public var name: String
    public var allowedDomains: [String]
    public var isActive: Bool
    public var limits: WidgetLimits
    public var settings: WidgetSettings
    public var createdAt: Date
    public var updatedAt: Date

    public init(widgetId: String, name: String, allowedDomains: [String], isActive: Bool = true,
                limits: WidgetLimits = WidgetLimits(), settings: WidgetSettings = WidgetSettings(),
                createdAt: Date, updatedAt: Date? = nil) {
        self.widgetId = widgetId
        self.name = name
        self.allowedDomains = allowedDomains
        self.isActive = isActive
        self.limits = limits
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    enum CodingKeys: String, CodingKey {
        case name, limits, settings
        case widgetId = "widget_id"
        case allowedDomains = "allowed_domains"
        case isActive = "is_active"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A live WebSocket connection, written on `$connect` and read by every message on it.
public struct ConnectionRecord: Codable, Sendable, Equatable {
    public var connectionId: String
    public var widgetId: String
    public var sessionId: String
    /// The normalised origin the handshake came from, or nil where missing origins are allowed.
    public var origin: String?
    public var sourceIp: String
    public var userAgent: String?
    /// The caller's identity: the authorizer's principal or `anonymous`.
    public var userId: String
    public var connectedAt: Date
    /// When the store may forget the record (DynamoDB TTL); past API Gateway's 2-hour hard limit.
    public var expiresAt: Date

    public init(connectionId: String, widgetId: String, sessionId: String, origin: String?, sourceIp: String,
                userAgent: String?, userId: String, connectedAt: Date, expiresAt: Date) {
        self.connectionId = connectionId
        self.widgetId = widgetId
        self.sessionId = sessionId
        self.origin = origin
        self.sourceIp = sourceIp
        self.userAgent = userAgent
        self.userId = userId
        self.connectedAt = connectedAt
        self.expiresAt = expiresAt
    }
}

/// Who spoke a line of a conversation.
public enum ChatRole: String, Codable, Sendable, Equatable {
    case user, assistant, system
}

/// One stored line of a conversation, already PII-redacted.
public struct StoredMessage: Codable, Sendable, Equatable {
    public var widgetId: String
    public var conversationId: String
    public var role: ChatRole
    public var content: String
    /// The normalised origin or domain the message came from; analytics and GDPR export key on it.
    public var domain: String?
    public var sourceIp: String?
    public var createdAt: Date

    public init(widgetId: String, conversationId: String, role: ChatRole, content: String, domain: String?,
                sourceIp: String?, createdAt: Date) {
        self.widgetId = widgetId
        self.conversationId = conversationId
        self.role = role
        self.content = content
        self.domain = domain
        self.sourceIp = sourceIp
        self.createdAt = createdAt
    }
}

/// The kinds of security event, as the admin API lists them (docs/openapi.yaml).
public enum SecurityEventType: String, Codable, Sendable, CaseIterable {
    case rateLimit = "rate_limit"
    case suspiciousContent = "suspicious_content"
    case domainNotAllowed = "domain_not_allowed"
    case originNotAllowed = "origin_not_allowed"
    case widgetNotFound = "widget_not_found"
    case invalidWidgetId = "invalid_widget_id"
    case messageTooLong = "message_too_long"
    case blocked
}

/// A refusal, recorded with what was actually seen so that it can be investigated later.
///
/// Refusals of one type from one client within a short window are one event: `count`
/// says how many there were, `lastSeenAt` when the last came, and the samples keep the first few
/// distinct widget ids and origins they named, since an attacker varies those. The other fields are
/// the first refusal's.
public struct SecurityEvent: Codable, Sendable, Equatable {
    /// Widget ids and origins kept per event: enough to see what a flood aimed at, bounded so that a
    /// flood naming a new one each time cannot grow the event.
    public static let sampleLimit = 5

    /// How much of each client-controlled text an event keeps, in characters. Counting into an event
    /// rewrites the whole item, and a write costs one unit per KB of it: with these bounds an event
    /// stays under 2 KB (two write units a count) whatever a client sends, where whole headers and
    /// five long sampled origins would make every count of a flood cost five.
    public enum TextLimits {
        public static let origin = 128
        public static let userAgent = 160
        public static let widgetId = 100
        public static let detail = 100
        public static let sample = 64
    }

    public var id: String
    public var type: SecurityEventType
    public var widgetId: String?
    /// The Origin (or Referer) header exactly as received, before normalisation.
    public var origin: String?
    public var domain: String?
    public var sourceIp: String
    public var userAgent: String?
    public var details: [String: String]
    public var createdAt: Date
    /// Refusals this event stands for.
    public var count: Int
    public var lastSeenAt: Date
    public var sampleWidgetIds: [String]
    public var sampleOrigins: [String]

    public init(id: String, type: SecurityEventType, widgetId: String?, origin: String?, domain: String?,
                sourceIp: String, userAgent: String?, details: [String: String], createdAt: Date,
                count: Int = 1, lastSeenAt: Date? = nil, sampleWidgetIds: [String]? = nil, sampleOrigins: [String]? = nil) {
        self.id = id
        self.type = type
        self.widgetId = widgetId
        self.origin = origin
        self.domain = domain
        self.sourceIp = sourceIp
        self.userAgent = userAgent
        self.details = details
        self.createdAt = createdAt
        self.count = count
        self.lastSeenAt = lastSeenAt ?? createdAt
        self.sampleWidgetIds = sampleWidgetIds ?? widgetId.map { [$0] } ?? []
        self.sampleOrigins = sampleOrigins ?? origin.map { [$0] } ?? []
    }

    /// This event with `later` (same id) folded in: counts added, the later time, samples merged up to
    /// `sampleLimit` each. Every store aggregates with it.
    public func merging(_ later: SecurityEvent) -> SecurityEvent {
        func merged(_ kept: [String], _ added: [String]) -> [String] {
            var result = kept
            for value in added.lazy.map({ String($0.prefix(TextLimits.sample)) })
            where result.count < Self.sampleLimit && !result.contains(value) { result.append(value) }
            return result
        }
        var event = self
        event.count += later.count
        event.lastSeenAt = max(lastSeenAt, later.lastSeenAt)
        event.sampleWidgetIds = merged(sampleWidgetIds, later.sampleWidgetIds)
        event.sampleOrigins = merged(sampleOrigins, later.sampleOrigins)
        return event
    }

    enum CodingKeys: String, CodingKey {
        case id, type, origin, domain, details, count
        case widgetId = "widget_id"
        case sourceIp = "ip"
        case userAgent = "user_agent"
        case createdAt = "timestamp"
        case lastSeenAt = "last_seen"
        case sampleWidgetIds = "sample_widget_ids"
        case sampleOrigins = "sample_origins"
    }

    /// Events stored before aggregation have no count, time last seen or samples: they stand for one refusal.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(String.self, forKey: .id), type: try c.decode(SecurityEventType.self, forKey: .type),
                  widgetId: try c.decodeIfPresent(String.self, forKey: .widgetId), origin: try c.decodeIfPresent(String.self, forKey: .origin),
                  domain: try c.decodeIfPresent(String.self, forKey: .domain), sourceIp: try c.decode(String.self, forKey: .sourceIp),
                  userAgent: try c.decodeIfPresent(String.self, forKey: .userAgent),
                  details: try c.decode([String: String].self, forKey: .details), createdAt: try c.decode(Date.self, forKey: .createdAt),
                  count: try c.decodeIfPresent(Int.self, forKey: .count) ?? 1, lastSeenAt: try c.decodeIfPresent(Date.self, forKey: .lastSeenAt),
                  sampleWidgetIds: try c.decodeIfPresent([String].self, forKey: .sampleWidgetIds),
                  sampleOrigins: try c.decodeIfPresent([String].self, forKey: .sampleOrigins))
    }
}

extension SecurityEvent: JSONValueEncodable {
    /// The event as the admin API shows it, byte for byte what `JSONCoding.encoder` writes (nil
    /// fields omitted, the time in ISO 8601): a security events listing writes up to a thousand.
    public var jsonValue: JSONValue {
        .object(members(timestamp: .string(ISO8601.string(createdAt)), lastSeen: .string(ISO8601.string(lastSeenAt))))
    }

    /// The fields under their coding keys, nil ones absent as `Encodable` leaves them, with the times
    /// as the caller writes them (ISO 8601 for the API, epoch milliseconds in stores).
    func members(timestamp: JSONValue, lastSeen: JSONValue) -> [String: JSONValue] {
        var object: [String: JSONValue] = ["id": .string(id), "type": .string(type.rawValue), "ip": .string(sourceIp),
                                           "details": .object(details.mapValues(JSONValue.string)), "timestamp": timestamp,
                                           "count": .number(Double(count)), "last_seen": lastSeen,
                                           "sample_widget_ids": .array(sampleWidgetIds.map(JSONValue.string)),
                                           "sample_origins": .array(sampleOrigins.map(JSONValue.string))]
        object.set("widget_id", widgetId)
        object.set("origin", origin)
        object.set("domain", domain)
        object.set("user_agent", userAgent)
        return object
    }

    /// `JSONValue.object(members(timestamp:lastSeen:)).jsonBytes`, written member by member in the
    /// writer's key order, with `time` writing each time: no dictionary per event and per `details`.
    func write(in writer: inout JSONValueWriter, time: (Date, inout JSONValueWriter) -> Void) {
        func strings(_ values: [String]) {
            writer.bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                writer.write(string: value)
            }
            writer.bytes.append(UInt8(ascii: "]"))
        }
        var object = JSONObjectWriter(in: &writer)
        object.key("count", in: &writer)
        writer.write(.number(Double(count)))
        object.key("details", in: &writer)
        var fields = JSONObjectWriter(in: &writer)
        for (key, value) in details.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            fields.key(key, in: &writer)
            writer.write(string: value)
        }
        fields.end(in: &writer)
        object.member("domain", domain.map(JSONValue.string), in: &writer)
        object.key("id", in: &writer)
        writer.write(string: id)
        object.key("ip", in: &writer)
        writer.write(string: sourceIp)
        object.key("last_seen", in: &writer)
        time(lastSeenAt, &writer)
        object.member("origin", origin.map(JSONValue.string), in: &writer)
        object.key("sample_origins", in: &writer)
        strings(sampleOrigins)
        object.key("sample_widget_ids", in: &writer)
        strings(sampleWidgetIds)
        object.key("timestamp", in: &writer)
        time(createdAt, &writer)
        object.key("type", in: &writer)
        writer.write(string: type.rawValue)
        object.member("user_agent", userAgent.map(JSONValue.string), in: &writer)
        object.member("widget_id", widgetId.map(JSONValue.string), in: &writer)
        object.end(in: &writer)
    }

    /// As the admin API shows the event (`jsonValue`), written directly.
    func write(in writer: inout JSONValueWriter) {
        write(in: &writer) { date, writer in writer.write(string: ISO8601.string(date)) }
    }
}

/// Which security events to read back.
public struct SecurityEventQuery: Sendable, Equatable {
    public var type: SecurityEventType?
    public var widgetId: String?
    /// The normalised host the request came from, exactly (a GDPR export names one domain).
    public var domain: String?
    public var since: Date
    /// The latest event included, or nil for every event from `since` on. "The last N hours" ends
    /// now: an event stamped later (a clock ahead of this one, or replay's clock set back to a
    /// fixture's time) is not yet in them.
    public var until: Date?
    public var limit: Int

    public init(type: SecurityEventType? = nil, widgetId: String? = nil, domain: String? = nil, since: Date, until: Date? = nil,
                limit: Int = 100) {
        self.type = type
        self.widgetId = widgetId
        self.domain = domain
        self.since = since
        self.until = until
        self.limit = limit
    }
}
