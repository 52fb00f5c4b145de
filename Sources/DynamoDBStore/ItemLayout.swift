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
/// | message | `CONVERSATION#<widget>#<conversation>` | `MESSAGE#<ms>#<tick>#<nonce>` (`messageSortKey`) |
/// | conversation listed for a domain (GDPR export) | `DOMAIN_CONVERSATIONS#<domain>#<shard>` | the conversation's pk |
/// | counter, interval, block | `COUNTER#<key>`, `INTERVAL#<key>`, `BLOCK#<key>` | same as the kind |
/// | an admission scope's counters and interval (`LimitsRecord`) | `LIMITS#<scope>` | `LIMITS` |
/// | security event | `SECURITY_EVENT#<id>` | `SECURITY_EVENT`; in `gsi2` under `SECURITY_EVENTS#<shard>`, by time |
/// | a widget's usage, one of `usageShards` items a day | `USAGE#<day>#<shard>` | `USAGE#<widget>` (counts by domain: `usageBuckets`) |
///
/// Items of earlier layouts are still read until their TTL removes them: conversation heads
/// (`HEAD`) and messages under `MESSAGE#<sequence>` (which sort before every later key), messages
/// copied to `gsi1` under `DOMAIN_MESSAGES#<domain>`, security events in `gsi1` (which copies
/// whole items, so that every count into an event wrote the index too), and usage buckets of a
/// widget and domain under `USAGE#<day>`.
enum ItemLayout {
    static let partitionKey = "pk"
    static let sortKey = "sk"
    static let index = "gsi1"
    static let indexPartitionKey = "gsi1pk"
    static let indexSortKey = "gsi1sk"
    static let eventIndex = "gsi2"
    static let eventIndexPartitionKey = "gsi2pk"
    static let eventIndexSortKey = "gsi2sk"
    /// What `gsi2` holds besides keys: the attributes listings filter on, set once per event.
    static let eventIndexAttributes = ["type", "widget_id", "domain"]
    static let expiresAt = "expires_at"
    static let record = "record"

    static let widgetsPartition = "WIDGETS"
    /// Security events are spread over this many index partitions by a hash of their id, so that a
    /// refusal flood from many clients is not one hot partition (which would throttle the table
    /// writes feeding it); listings read them all and merge.
    static let securityEventShards = 8
    static let securityEventsPartitions = (0..<securityEventShards).map { "SECURITY_EVENTS#\($0)" }
    /// Where `gsi1` holds events of earlier layouts, spread or not; still read, until their TTL removes them.
    static let legacySecurityEventsPartitions = securityEventsPartitions + ["SECURITY_EVENTS"]
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
        securityEventsPartitions[Int(fnv1a(id) % UInt32(securityEventShards))]
    }

    /// FNV-1a: a stable hash for spreading keys over shards (Swift's `hashValue` changes per process).
    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }

    static func securityEvent(_ id: String) -> Item { key(partition("SECURITY_EVENT", id), "SECURITY_EVENT") }
    /// Where every message from a domain used to be copied in `gsi1`.
    static func domainMessages(_ domain: String) -> String { partition("DOMAIN_MESSAGES", domain) }

    /// A domain's conversations are listed over this many partitions, by a hash of the conversation,
    /// so that a busy domain's new conversations are not one hot partition.
    static let domainConversationShards = 8
    static func domainConversations(_ domain: String, shard: Int) -> String { partition("DOMAIN_CONVERSATIONS", domain, String(shard)) }
    static func domainConversation(_ domain: String, conversation: String) -> Item {
        key(domainConversations(domain, shard: Int(fnv1a(conversation) % UInt32(domainConversationShards))), conversation)
    }

    /// A message's sort key: the wall-clock millisecond of `date`, then `tick` (nanoseconds on a
    /// monotonic clock, so that appends at one millisecond keep their order), then a random `nonce`
    /// that keeps concurrent appends apart. Fixed width, so that string order is this order.
    static func messageSortKey(at date: Date, tick: Int64, nonce: UInt32) -> String {
        let hex = String(nonce, radix: 16)
        return messagePrefix + padded(milliseconds(date), width: 15) + "#" + padded(tick, width: 19) + "#"
            + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Usage buckets of a day are spread over this many partitions, each write to a random one, so
    /// that no item takes a write for every message of the system (or of a busy widget); reports sum them.
    static let usageShards = 8
    /// Where a day's buckets were kept before they were spread.
    static func usageDay(_ day: String) -> String { partition("USAGE", day) }
    static func usageDay(_ day: String, shard: Int) -> String { partition("USAGE", day, String(shard)) }
    static func usageBucket(day: String, shard: Int, widget: String) -> Item {
        key(usageDay(day, shard: shard), partition("USAGE", widget))
    }

    /// A usage item's attributes: `total` messages, and per domain `messages#<domain>` and
    /// `blocked#<domain>` (a widget's domains are few: those it allows, and the unknown one).
    static let usageTotal = "total"
    static let usageMessages = "messages#"
    static let usageBlocked = "blocked#"

    /// The buckets a usage item holds: one per domain of a widget's item, or the one bucket of an
    /// item of the earlier layout.
    static func usageBuckets(in item: Item, day: String) -> [DailyUsage] {
        let widget = item["widget_id"]?.stringValue ?? DailyUsage.unknown
        if let domain = item["domain"]?.stringValue {
            return [DailyUsage(day: day, widgetId: widget, domain: domain, messages: Int(item["messages"]?.int64Value ?? 0),
                               blocked: Int(item["blocked"]?.int64Value ?? 0))]
        }
        var byDomain: [String: (messages: Int, blocked: Int)] = [:]
        for (name, value) in item {
            guard let count = value.int64Value else { continue }
            if name.hasPrefix(usageMessages) {
                byDomain[String(name.dropFirst(usageMessages.count)), default: (0, 0)].messages += Int(count)
            } else if name.hasPrefix(usageBlocked) {
                byDomain[String(name.dropFirst(usageBlocked.count)), default: (0, 0)].blocked += Int(count)
            }
        }
        return byDomain.map { DailyUsage(day: day, widgetId: widget, domain: $0.key, messages: $0.value.messages, blocked: $0.value.blocked) }
    }

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
