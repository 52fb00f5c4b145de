#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What Lambda tells a function about one invocation.
public struct InvocationContext: Sendable {
    public var requestId: String
    /// When Lambda will stop the invocation; work such as provider calls must finish before it.
    public var deadline: Date
    public var invokedFunctionArn: String
    public var traceId: String?

    public init(requestId: String, deadline: Date, invokedFunctionArn: String = "", traceId: String? = nil) {
        self.requestId = requestId
        self.deadline = deadline
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
    }

    /// Time left before `deadline`, measured against `now`.
    public func remainingTime(now: Date) -> TimeInterval {
        deadline.timeIntervalSince(now)
    }
}
