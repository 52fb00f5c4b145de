#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the admin API reads back: usage analytics, security events, the GDPR export of a domain,
/// and the retention purge.
struct AdminReports {
    let dependencies: Dependencies

    static let periods = ["1d": 1, "7d": 7, "30d": 30]
    static let topDomainCount = 10
    static let maxExportedEvents = 50_000

    struct Usage: JSONValueEncodable {
        var period: String
        var from: String
        var to: String
        var widgetId: String?
        var data: Totals

        /// Written by hand, like every body below (keys sorted, nil fields omitted, times in ISO
        /// 8601): JSONEncoder was most of the cost of the admin reports.
        var jsonValue: JSONValue {
            var object: [String: JSONValue] = ["period": .string(period), "from": .string(from), "to": .string(to), "data": data.jsonValue]
            object.set("widget_id", widgetId)
            return .object(object)
        }
    }

    struct Totals: JSONValueEncodable {
        var totalMessages: Int
        var uniqueDomains: Int
        var blockedRequests: Int
        var activeWidgets: Int
        var dailyBreakdown: [Day]
        var topDomains: [Domain]

        var jsonValue: JSONValue {
            .object(["total_messages": totalMessages.jsonValue, "unique_domains": uniqueDomains.jsonValue,
                     "blocked_requests": blockedRequests.jsonValue, "active_widgets": activeWidgets.jsonValue,
                     "daily_breakdown": dailyBreakdown.jsonValue, "top_domains": topDomains.jsonValue])
        }
    }

    struct Day: Equatable, JSONValueEncodable {
        var date: String
        var messages: Int
        var blocked: Int

        var jsonValue: JSONValue { .object(["date": .string(date), "messages": messages.jsonValue, "blocked": blocked.jsonValue]) }
    }

    struct Domain: Equatable, JSONValueEncodable {
        var domain: String
        var messages: Int
        var blocked: Int

        var jsonValue: JSONValue { .object(["domain": .string(domain), "messages": messages.jsonValue, "blocked": blocked.jsonValue]) }
    }

    /// `period=1d|7d|30d` (UTC days, today included), optionally one `widget_id`.
    func usage(_ query: AdminQuery) async throws -> HTTPRouteResponse {
        let period = query.string("period") ?? "7d"
        guard let dayCount = Self.periods[period] else {
            throw AdminError.invalid("period must be 1d, 7d or 30d; got \(period.prefix(20)).")
        }
        let widgetId = try query.widgetId()
        let now = dependencies.clock.now()
        let days = (0..<dayCount).map { DailyUsage.day(of: now.addingTimeInterval(-Double($0) * 86_400)) }
        let buckets = try await dependencies.store.usage(days: days).filter { widgetId == nil || $0.widgetId == widgetId }

        var byDay: [String: Day] = [:]
        var byDomain: [String: Domain] = [:]
        for bucket in buckets {
            byDay[bucket.day, default: Day(date: bucket.day, messages: 0, blocked: 0)].messages += bucket.messages
            byDay[bucket.day, default: Day(date: bucket.day, messages: 0, blocked: 0)].blocked += bucket.blocked
            guard bucket.domain != DailyUsage.unknown else { continue }
            byDomain[bucket.domain, default: Domain(domain: bucket.domain, messages: 0, blocked: 0)].messages += bucket.messages
            byDomain[bucket.domain, default: Domain(domain: bucket.domain, messages: 0, blocked: 0)].blocked += bucket.blocked
        }
        let served = byDomain.values.filter { $0.messages > 0 }
        let totals = Totals(
            totalMessages: buckets.reduce(0) { $0 + $1.messages },
            uniqueDomains: served.count,
            blockedRequests: buckets.reduce(0) { $0 + $1.blocked },
            activeWidgets: try await activeWidgets(only: widgetId),
            dailyBreakdown: days.map { byDay[$0] ?? Day(date: $0, messages: 0, blocked: 0) },
            topDomains: Array(served.sorted { ($1.messages, $0.domain) < ($0.messages, $1.domain) }.prefix(Self.topDomainCount)))
        return AdminFunction.json(200, Usage(period: period, from: days.last ?? "", to: days.first ?? "", widgetId: widgetId, data: totals))
    }

    private func activeWidgets(only widgetId: String?) async throws -> Int {
        if let widgetId { return try await dependencies.store.widget(id: widgetId)?.isActive == true ? 1 : 0 }
        var count = 0
        var cursor: String?
        repeat {
            let page = try await dependencies.store.widgets(after: cursor, limit: 100)
            count += page.count { $0.isActive }
            cursor = page.count == 100 ? page.last?.widgetId : nil
        } while cursor != nil
        return count
    }

    struct Events: JSONValueEncodable {
        var events: [SecurityEvent]
        var total: Int
        var hours: Int

        var jsonValue: JSONValue {
            .object(["events": events.jsonValue, "total": total.jsonValue, "hours": hours.jsonValue])
        }

        /// The response body, `AdminFunction.json(_:_:)` of `jsonValue` byte for byte, written
        /// directly: a listing holds up to a thousand events, each a tree of dictionaries otherwise.
        var body: String {
            var writer = JSONValueWriter()
            var object = JSONObjectWriter(in: &writer)
            object.key("events", in: &writer)
            writer.bytes.append(UInt8(ascii: "["))
            for (offset, event) in events.enumerated() {
                if offset > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                event.write(in: &writer)
            }
            writer.bytes.append(UInt8(ascii: "]"))
            object.member("hours", hours.jsonValue, in: &writer)
            object.member("success", .bool(true), in: &writer)
            object.member("total", total.jsonValue, in: &writer)
            object.end(in: &writer)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
    }

    /// `type`, `hours` (1 to the retention period, default 24), `widget_id`, `limit` (default 100).
    func securityEvents(_ query: AdminQuery) async throws -> HTTPRouteResponse {
        var type: SecurityEventType?
        if let raw = query.string("type") {
            guard let known = SecurityEventType(rawValue: raw) else {
                throw AdminError.invalid("type must be one of \(SecurityEventType.allCases.map(\.rawValue).joined(separator: ", ")); got \(raw.prefix(40)).")
            }
            type = known
        }
        let hours = try query.int("hours", default: 24, range: 1...(dependencies.configuration.retentionDays * 24))
        let limit = try query.int("limit", default: 100, range: 1...1000)
        let now = dependencies.clock.now()
        let events = try await dependencies.store.securityEvents(SecurityEventQuery(type: type, widgetId: try query.widgetId(),
                                                                       since: now.addingTimeInterval(-Double(hours) * 3600), until: now,
                                                                       limit: limit))
        return AdminFunction.json(200, body: Events(events: events, total: events.count, hours: hours).body)
    }

    struct Export: JSONValueEncodable {
        var domain: String
        var exportedAt: Date
        var conversations: [Conversation]
        var securityEvents: [SecurityEvent]
        /// More events than one export carries: a domain under sustained attack. Narrow by hours
        /// through the security events route.
        var securityEventsTruncated: Bool
        var usage: [DailyUsage]

        var jsonValue: JSONValue {
            .object(["domain": .string(domain), "exported_at": .string(ISO8601.string(exportedAt)), "conversations": conversations.jsonValue,
                     "security_events": securityEvents.jsonValue, "security_events_truncated": .bool(securityEventsTruncated),
                     "usage": usage.jsonValue])
        }
    }

    struct Conversation: JSONValueEncodable {
        var widgetId: String
        var conversationId: String
        var messages: [Message]

        var jsonValue: JSONValue {
            .object(["widget_id": .string(widgetId), "conversation_id": .string(conversationId), "messages": messages.jsonValue])
        }
    }

    struct Message: JSONValueEncodable {
        var role: ChatRole
        var content: String
        var sourceIp: String?
        var createdAt: Date

        var jsonValue: JSONValue {
            var object: [String: JSONValue] = ["role": .string(role.rawValue), "content": .string(content),
                                               "created_at": .string(ISO8601.string(createdAt))]
            object.set("source_ip", sourceIp)
            return .object(object)
        }
    }

    /// Everything kept about visitors of one domain (exact host): their conversations, the security
    /// events their requests caused and the usage counted for them.
    func export(_ query: AdminQuery) async throws -> HTTPRouteResponse {
        guard let raw = query.string("domain") else { throw AdminError.invalid("domain is required, e.g. ?domain=customer.com.") }
        guard let domain = AllowedDomain(raw)?.host else { throw AdminError.invalid("domain is not a domain: \(raw.prefix(80)).") }
        let now = dependencies.clock.now()
        let retention = Double(dependencies.configuration.retentionDays) * 86_400

        var conversations: [Conversation] = []
        var positions: [String: Int] = [:]
        for message in try await dependencies.store.messages(domain: domain) {
            let key = "\(message.widgetId)\u{0}\(message.conversationId)"
            let position = positions[key] ?? {
                conversations.append(Conversation(widgetId: message.widgetId,
                                                  conversationId: ConversationToken.conversationId(ofStorageKey: message.conversationId),
                                                  messages: []))
                positions[key] = conversations.count - 1
                return conversations.count - 1
            }()
            conversations[position].messages.append(Message(role: message.role, content: message.content, sourceIp: message.sourceIp,
                                                             createdAt: message.createdAt))
        }
        let events = try await dependencies.store.securityEvents(SecurityEventQuery(domain: domain, since: now.addingTimeInterval(-retention),
                                                                       limit: Self.maxExportedEvents + 1))
        let days = (0...dependencies.configuration.retentionDays).map { DailyUsage.day(of: now.addingTimeInterval(-Double($0) * 86_400)) }
        let usage = try await dependencies.store.usage(days: days).filter { $0.domain == domain }
        return AdminFunction.json(200, Export(domain: domain, exportedAt: now, conversations: conversations,
                                              securityEvents: Array(events.prefix(Self.maxExportedEvents)),
                                              securityEventsTruncated: events.count > Self.maxExportedEvents, usage: usage))
    }

    struct Purge: JSONValueEncodable {
        var cutoff: Date
        var purged: PurgeResult

        var jsonValue: JSONValue {
            .object(["cutoff": .string(ISO8601.string(cutoff)), "purged": .object([
                "messages": purged.messages.jsonValue, "security_events": purged.securityEvents.jsonValue,
                "usage_buckets": purged.usageBuckets.jsonValue, "expires_by_ttl": .bool(purged.expiresByTTL)])])
        }
    }

    /// Removes what is older than the retention period (`RETENTION_DAYS`, 30 by default).
    func purge() async throws -> HTTPRouteResponse {
        let now = dependencies.clock.now()
        let cutoff = now.addingTimeInterval(-Double(dependencies.configuration.retentionDays) * 86_400)
        return AdminFunction.json(200, Purge(cutoff: cutoff, purged: try await dependencies.store.purge(before: cutoff, now: now)))
    }
}
