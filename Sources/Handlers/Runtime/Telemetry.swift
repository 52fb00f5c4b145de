import Synchronization

/// A count operators watch (docs/operations.md, “Metrics” and “Alarms”). The raw value is the
/// metric's name in CloudWatch (Embedded Metric Format) and, in snake case, on the local stage's
/// `/metrics`.
public enum CountedMetric: String, CaseIterable, Sendable {
    /// A user message reached the chat policy (chat POST or `sendMessage`), refused or not.
    case messages = "Messages"
    /// The provider's reply was accepted and handed to the user (the chat POST's answer, or the
    /// frames posted to the WebSocket connection).
    case replies = "Replies"
    /// The AI provider failed and the user got the friendly fallback (`processing_error`).
    case aiErrors = "AIErrors"
    case rateLimitExceeded = "RateLimitExceeded"
    case domainNotAllowed = "DomainNotAllowed"
    case originNotAllowed = "OriginNotAllowed"
    case suspiciousContent = "SuspiciousContent"
    case widgetNotFound = "WidgetNotFound"
    case invalidWidgetId = "InvalidWidgetId"
    case messageTooLong = "MessageTooLong"
    /// A request refused because its client is blocked.
    case blocked = "Blocked"
    /// An automatic block began (`AUTO_BLOCK_AFTER_WARNINGS` refusals within the cooldown).
    case blocksStarted = "BlocksStarted"
    /// An admin API request without a valid bearer token (401).
    case adminAuthenticationFailures = "AdminAuthenticationFailures"

    /// The metric that counts refusals of a security event type.
    public init(refusal type: SecurityEventType) {
        self = switch type {
        case .rateLimit: .rateLimitExceeded
        case .domainNotAllowed: .domainNotAllowed
        case .originNotAllowed: .originNotAllowed
        case .suspiciousContent: .suspiciousContent
        case .widgetNotFound: .widgetNotFound
        case .invalidWidgetId: .invalidWidgetId
        case .messageTooLong: .messageTooLong
        case .blocked: .blocked
        }
    }
}

/// What one invocation did, as operators see it: which function, how long, how it ended, what it
/// counted. It carries no message text, origin, IP address or user agent, and a widget id only once
/// the widget was found to exist, so that neither PII nor names a client made up reach logs or
/// metric dimensions.
public struct InvocationReport: Sendable, Equatable {
    /// One refusal: the security event type it was recorded as.
    public struct RefusalEntry: Sendable, Equatable {
        public var event: SecurityEventType
        /// The widget the refused request named, when that widget exists.
        public var widgetId: String?

        public init(event: SecurityEventType, widgetId: String?) {
            self.event = event
            self.widgetId = widgetId
        }
    }

    public var function: FunctionName
    public var requestId: String
    public var duration: Duration
    /// The response's status code; nil when the invocation failed (`errorType`).
    public var statusCode: Int?
    /// The `InvocationError` type of a failed invocation.
    public var errorType: String?
    /// The widget the request used, when it exists.
    public var widgetId: String?
    /// Only the metrics counted at least once.
    public var counts: [CountedMetric: Int]
    /// Each AI provider call's time to its complete reply (or failure).
    public var aiLatencies: [Duration]
    public var refusals: [RefusalEntry]
}

/// Where each invocation's report goes once the invocation ends, exactly once: in Lambda one log
/// write (Embedded Metric Format plus the structured log fields), on the local stage counters for
/// `/metrics`. Called on the invocation's own task after its response is known; it must not block.
public protocol TelemetrySink: Sendable {
    func publish(_ report: InvocationReport)
}

/// Collects one invocation's counts while it runs.
///
/// `AnyLambdaFunction` binds one to the invocation's task (`InvocationTelemetry.current`, a task
/// local), so that the policy code that knows what happened — `SecurityEventRecorder`,
/// `ChatService`, `AdminFunction` — counts it without every call in between carrying it, and child
/// tasks of the invocation count into the same one. Outside an invocation with a sink (unit tests,
/// functions built without one) there is none and counting does nothing.
public final class InvocationTelemetry: Sendable {
    @TaskLocal public static var current: InvocationTelemetry?

    private struct State {
        var counts: [CountedMetric: Int] = [:]
        var aiLatencies: [Duration] = []
        var refusals: [InvocationReport.RefusalEntry] = []
        var widgetId: String?
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts `metric` for the current invocation, if it is being observed.
    public static func count(_ metric: CountedMetric) {
        current?.state.withLock { $0.counts[metric, default: 0] += 1 }
    }

    /// Counts a refusal (its metric, and the refusal's own log line) for the current invocation.
    public static func refused(_ event: SecurityEventType, widgetId: String?) {
        current?.state.withLock {
            $0.counts[CountedMetric(refusal: event), default: 0] += 1
            $0.refusals.append(InvocationReport.RefusalEntry(event: event, widgetId: widgetId))
        }
    }

    /// Records one AI provider call's duration for the current invocation.
    public static func aiCall(took duration: Duration) {
        current?.state.withLock { $0.aiLatencies.append(duration) }
    }

    /// Notes the widget the current invocation serves, once it is known to exist.
    public static func serving(widgetId: String) {
        current?.state.withLock { $0.widgetId = widgetId }
    }

    /// The report of the invocation this collected.
    public func report(function: FunctionName, requestId: String, duration: Duration, statusCode: Int?, errorType: String?) -> InvocationReport {
        state.withLock {
            InvocationReport(function: function, requestId: requestId, duration: duration, statusCode: statusCode, errorType: errorType,
                             widgetId: $0.widgetId, counts: $0.counts, aiLatencies: $0.aiLatencies, refusals: $0.refusals)
        }
    }
}

/// A response that has an HTTP-like status, for the invocation's report.
public protocol StatusCodeReporting {
    var statusCode: Int { get }
}

extension HTTPRouteResponse: StatusCodeReporting {}
extension WebSocketResponse: StatusCodeReporting {}
