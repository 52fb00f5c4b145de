import Handlers
import Synchronization

/// Widgets read in the last `lifetime`, at most `capacity` of them: an execution environment serves
/// many messages of few widgets, and each message, `$connect` and preflight needs its widget. A
/// widget changed by another process is seen once its entry expires; by this one, at once.
/// Only widgets that exist are kept, so that ids a client makes up cannot push real ones out.
final class WidgetCache: Sendable {
    let lifetime: Duration
    let capacity: Int
    private let entries = Mutex<[String: (widget: WidgetConfig, readAt: ContinuousClock.Instant)]>([:])

    init(lifetime: Duration = .seconds(5), capacity: Int = 256) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func widget(id: String) -> WidgetConfig? {
        entries.withLock { entries in
            guard let entry = entries[id] else { return nil }
            guard entry.readAt.duration(to: .now) < lifetime else {
                entries[id] = nil
                return nil
            }
            return entry.widget
        }
    }

    func keep(_ widget: WidgetConfig) {
        let now = ContinuousClock.now
        entries.withLock { entries in
            if entries.count >= capacity, entries[widget.widgetId] == nil {
                // Expired entries go first; if none has, the oldest.
                entries = entries.filter { $0.value.readAt.duration(to: now) < lifetime }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.readAt < $1.value.readAt })?.key {
                    entries[oldest] = nil
                }
            }
            entries[widget.widgetId] = (widget, now)
        }
    }

    func forget(id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }
}
