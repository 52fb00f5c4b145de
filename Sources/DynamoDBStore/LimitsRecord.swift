import Handlers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The counters and interval of one admission scope (`CounterIncrement.scope`) as one item, so that
/// an admission reads them with the block in one call and counts them in one conditional write.
///
/// The item holds each counter of the scope's current windows by key and the time of the last
/// claimed interval, with a version. An admission is decided on the item as read; only an admitted
/// one writes it back, on the condition that the version is still the one read. When another
/// admission wrote first, DynamoDB returns the item as it now is and the admission is decided again
/// on that: every write that succeeds counts exactly once, so N concurrent admissions against a
/// limit L still admit exactly min(N, L). A refusal writes nothing. A lost race costs its write
/// unit, but means that another admission was counted, so a client's concurrent requests cannot
/// lose more races than its limits admit messages.
struct LimitsRecord: Equatable {
    /// Count by counter key; keys the scope's admissions no longer name (ended windows) are dropped.
    var counts: [String: Int] = [:]
    /// When the interval was last claimed, epoch milliseconds.
    var lastClaimMs: Int64?
    /// The version read; nil when there was no item.
    var version: Int64?

    static let attribute = "limits"

    init() {}

    init(item: Item?) {
        guard let item else { return }
        version = item["version"]?.int64Value
        guard let json = item[Self.attribute]?.stringValue,
              let stored = try? StoreCoding.decoder.decode(Stored.self, from: Data(json.utf8)) else { return }
        counts = stored.counts
        lastClaimMs = stored.lastClaimMs
    }

    private struct Stored: Codable {
        var counts: [String: Int]
        var lastClaimMs: Int64?

        enum CodingKeys: String, CodingKey {
            case counts, lastClaimMs = "last_claim_ms"
        }
    }

    /// How the scope decides an admission.
    enum Decision: Equatable {
        /// `outcomes` are those of the scope's counters up to and including the one that refused.
        case refusedByCounter(outcomes: [CounterOutcome])
        case refusedByInterval(remaining: TimeInterval, outcomes: [CounterOutcome])
        /// The record to write back.
        case admitted(outcomes: [CounterOutcome], next: LimitsRecord)
    }

    /// Decides `counters` in order, then `interval`, as `Store.admit(_:)` would, on this record.
    func deciding(_ counters: [CounterIncrement], interval: IntervalClaim?, now: Date) -> Decision {
        var next = LimitsRecord()
        next.version = version
        next.lastClaimMs = lastClaimMs
        for counter in counters { next.counts[counter.key] = next.counts[counter.key] ?? counts[counter.key] ?? 0 }
        var outcomes: [CounterOutcome] = []
        for counter in counters {
            let count = next.counts[counter.key] ?? 0
            guard counter.limit > 0, count < counter.limit else {
                outcomes.append(.refused(count: counter.limit > 0 ? count : 0))
                return .refusedByCounter(outcomes: outcomes)
            }
            next.counts[counter.key] = count + 1
            outcomes.append(.admitted(count: count + 1))
        }
        if let interval {
            let nowMs = ItemLayout.milliseconds(now)
            let intervalMs = Int64((interval.interval * 1000).rounded())
            if let last = lastClaimMs, last > nowMs - intervalMs {
                return .refusedByInterval(remaining: TimeInterval(max(0, last + intervalMs - nowMs)) / 1000, outcomes: outcomes)
            }
            next.lastClaimMs = nowMs
        }
        return .admitted(outcomes: outcomes, next: next)
    }

    /// The item to write for this record, the version after `version`, kept until `expiresAt`.
    func item(key: Item, expiresAt: Date) throws -> Item {
        let json = String(decoding: try StoreCoding.encoder.encode(Stored(counts: counts, lastClaimMs: lastClaimMs)), as: UTF8.self)
        return key.merging([
            Self.attribute: .string(json), "version": AttributeValue((version ?? 0) + 1),
            ItemLayout.expiresAt: ItemLayout.epochSeconds(expiresAt),
        ]) { $1 }
    }
}
