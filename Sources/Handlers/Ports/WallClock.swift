#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The wall clock every policy decision reads (rate-limit windows, blocks, retention, token
/// lifetimes), behind a protocol so that replay can run each event at the time it was recorded
/// and tests can move time. (Named `WallClock` so as not to shadow the standard library's `Clock`.)
///
/// What an implementation must guarantee: `now()` is cheap, never blocks and may be called from
/// any task; it need not be monotonic (a replayed or test clock may be set back), so durations
/// that must not go negative are measured with `ContinuousClock`, not with this.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The real time.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that says what it was last set to: for replaying recorded events at their recorded
/// times and for tests that move time.
public final class SettableClock: WallClock {
    private let current: Mutex<Date>

    public init(_ date: Date = Date()) { current = Mutex(date) }

    public func now() -> Date { current.withLock { $0 } }

    public func set(_ date: Date) { current.withLock { $0 = date } }

    public func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
