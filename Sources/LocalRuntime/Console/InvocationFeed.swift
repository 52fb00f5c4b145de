import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// Fans the stage's invocation records out to every open dev-console log (Server-Sent Events),
/// starting with the most recent `backlogLimit` records, so that a console opened after the
/// fact (or reloaded) shows what already happened, not only what happens next.
final class InvocationFeed: Sendable {
    /// Records kept for consoles that open later, and buffered per slow subscriber. Each record's
    /// event and response are at most `ConsoleBody.maxBytes` apiece, so the backlog stays within a
    /// few megabytes whatever clients send; subscribers' buffers share the same strings.
    static let backlogLimit = 200

    private struct State {
        var subscribers: [UUID: AsyncStream<InvocationRecord>.Continuation] = [:]
        /// The newest records, oldest first, at most `backlogLimit`.
        var backlog: [InvocationRecord] = []
    }

    private let state = Mutex(State())

    func publish(_ record: InvocationRecord) {
        let subscribers = state.withLock { state in
            state.backlog.append(record)
            if state.backlog.count > Self.backlogLimit { state.backlog.removeFirst(state.backlog.count - Self.backlogLimit) }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.yield(record) }
    }

    /// One subscriber's records, and a way to end them early (the stage shutting down).
    struct Subscription: Sendable {
        let stream: AsyncStream<InvocationRecord>
        fileprivate let continuation: AsyncStream<InvocationRecord>.Continuation

        func end() { continuation.finish() }
    }

    /// The backlog, then every record published from now on. Both happen under one lock, so no
    /// record is missed or shown twice.
    func subscribe() -> Subscription {
        let id = UUID()
        let (stream, continuation) = AsyncStream<InvocationRecord>.makeStream(bufferingPolicy: .bufferingNewest(Self.backlogLimit))
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        state.withLock { state in
            for record in state.backlog { continuation.yield(record) }
            state.subscribers[id] = continuation
        }
        return Subscription(stream: stream, continuation: continuation)
    }
}
