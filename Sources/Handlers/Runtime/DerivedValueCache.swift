import Synchronization

/// Values derived from a source that rarely changes (a widget's knowledge, the stamp of the store
/// state a row was read in), kept per key and reused while the source equals the one they were
/// derived from, so that an edited widget is derived again on its next use. Bounded: past
/// `capacity` keys it starts over.
public final class DerivedValueCache<Source: Equatable & Sendable, Value: Sendable>: Sendable {
    private let capacity: Int
    private let entries = Mutex<[String: (source: Source, value: Value)]>([:])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value for `key` derived from `source`: the kept one while `source` is unchanged, else
    /// `derive(source)`, kept from then on.
    public func value(for key: String, source: Source, derive: (Source) throws -> Value) rethrows -> Value {
        if let kept = entries.withLock({ $0[key] }), kept.source == source { return kept.value }
        let value = try derive(source)
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil { entries.removeAll() }
            entries[key] = (source: source, value: value)
        }
        return value
    }
}
