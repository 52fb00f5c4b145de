import Handlers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where each record lives in the single table. Every item has string keys `pk` and `sk`; records
/// are kept whole as JSON in `record`, with the attributes that conditions, counters and TTL act on
/// beside it.
///
/// | record | pk | sk |
/// |---|---|---|
/// | widget | `WIDGETS` | widget id (one partition: listing is a Query, in id order) |
/// | allowed domain of an active widget | `DOMAIN#<domain>` | widget id |
/// | connection | `CONNECTION#<id>` | `CONNECTION` |
/// | conversation head (message sequence) | `CONVERSATION#<widget>#<conversation>` | `HEAD` |
/// | message | `CONVERSATION#<widget>#<conversation>` | `MESSAGE#<sequence>` |
/// | counter, interval, block | `COUNTER#<key>`, `INTERVAL#<key>`, `BLOCK#<key>` | same as the kind |
/// | security event | `SECURITY_EVENT#<id>` | `SECURITY_EVENT`; in `gsi1` under `SECURITY_EVENTS#<shard>`, by time |
/// | message from a domain (GDPR export) | in `gsi1` under `DOMAIN_MESSAGES#<domain>`, by time | |
/// | usage bucket | `USAGE#<day>` | `USAGE#<widget>#<domain>` |
enum ItemLayout {
    static let partitionKey = "pk"
    static let sortKey = "sk"
    static let index = "gsi1"
    static let indexPartitionKey = "gsi1pk"
    static let indexSortKey = "gsi1sk"
    static let expiresAt = "expires_at"
    static let record = "record"

    static let widgetsPartition = "WIDGETS"
    /// Security events are spread over this many index partitions by a hash of their id, so that a
    /// refusal flood from many clients is not one hot partition (which would throttle the table
    /// writes feeding it); listings read them all and merge.
    static let securityEventShards = 8
    /// Where events were indexed before they were spread; still read, until their TTL removes them.
    static let unshardedSecurityEventsPartition = "SECURITY_EVENTS"
    static let securityEventsPartitions = (0..<securityEventShards).map { "SECURITY_EVENTS#\($0)" } + [unshardedSecurityEventsPartition]
    /// The refusals an aggregated security event stands for, and when the last came (epoch ms).
    static let eventCount = "event_count"
    static let eventLastSeen = "last_seen_ms"
    static let messagePrefix = "MESSAGE#"

    static func key(_ pk: String, _ sk: String) -> Item {
        [partitionKey: .string(pk), sortKey: .string(sk)]
    }

    /// A partition key from a kind and caller-supplied parts: `%` and `#` in the parts are escaped,
    /// so that `("a#b", "c")` and `("a", "b#c")` stay different items.
    static func partition(_ kind: String, _ parts: String...) -> String {
        ([kind] + parts.map { $0.replacing("%", with: "%25").replacing("#", with: "%23") }).joined(separator: "#")
    }

    static func widget(_ id: String) -> Item { key(widgetsPartition, id) }
    static func domain(_ domain: String, widget: String) -> Item { key(partition("DOMAIN", domain), widget) }
    static func connection(_ id: String) -> Item { key(partition("CONNECTION", id), "CONNECTION") }
    static func conversation(widget: String, conversation: String) -> String { partition("CONVERSATION", widget, conversation) }
    static func single(_ kind: String, _ name: String) -> Item { key(partition(kind, name), kind) }
    static func securityEventsPartition(forEvent id: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in id.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return securityEventsPartitions[Int(hash % UInt32(securityEventShards))]
    }

    static func securityEvent(_ id: String) -> Item { key(partition("SECURITY_EVENT", id), "SECURITY_EVENT") }
    static func domainMessages(_ domain: String) -> String { partition("DOMAIN_MESSAGES", domain) }
    static func usageDay(_ day: String) -> String { partition("USAGE", day) }
    static func usageBucket(day: String, widget: String, domain: String) -> Item { key(usageDay(day), partition("USAGE", widget, domain)) }

    /// Fixed-width and zero-padded, so that string order is numeric order.
    static func padded(_ value: Int64, width: Int) -> String {
        let digits = String(max(0, value))
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// DynamoDB TTL wants whole epoch seconds; rounding up never deletes early.
    static func epochSeconds(_ date: Date) -> AttributeValue {
        AttributeValue(Int64(date.timeIntervalSince1970.rounded(.up)))
    }
}
