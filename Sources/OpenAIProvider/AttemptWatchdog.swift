import Synchronization

/// The timeouts of one HTTP attempt, as one moving limit: first the connect timeout (until the
/// response head), then the read timeout renewed by every piece of the body, never past the deadline.
///
/// AsyncHTTPClient's own request deadline stops at the response head and its read timeout belongs
/// to the client's configuration; this keeps all three per request, whatever client is injected.
final class AttemptWatchdog: Sendable {
    private struct Limit {
        var instant: ContinuousClock.Instant
        var reason: OpenAIProviderError.Timeout
    }

    let deadline: ContinuousClock.Instant
    private let limit: Mutex<Limit>

    init(connectTimeout: Duration, deadline: ContinuousClock.Instant) {
        self.deadline = deadline
        limit = Mutex(Self.limit(after: connectTimeout, reason: .connect, deadline: deadline))
    }

    /// Bytes arrived: the next ones may take up to `readTimeout`.
    func progressed(readTimeout: Duration) {
        let next = Self.limit(after: readTimeout, reason: .read, deadline: deadline)
        limit.withLock { $0 = next }
    }

    /// Runs `work`, cancelling it and throwing `OpenAIProviderError.timedOut` once the limit passes.
    func guarding(_ work: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask(operation: work)
            group.addTask { try await self.expire() }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// How often the limit is looked at again: progress may move it earlier than the instant being
    /// slept towards (a read timeout shorter than what is left of the connect timeout).
    static let recheckInterval: Duration = .milliseconds(50)

    /// Sleeps until the current limit and throws there; returns only by cancellation.
    private func expire() async throws {
        while true {
            let current = limit.withLock { $0 }
            let now = ContinuousClock.now
            if now >= current.instant { throw OpenAIProviderError.timedOut(current.reason) }
            try await Task.sleep(until: min(current.instant, now + Self.recheckInterval), clock: .continuous)
        }
    }

    private static func limit(after timeout: Duration, reason: OpenAIProviderError.Timeout, deadline: ContinuousClock.Instant) -> Limit {
        let instant = ContinuousClock.now + timeout
        return instant < deadline ? Limit(instant: instant, reason: reason) : Limit(instant: deadline, reason: .deadline)
    }
}
