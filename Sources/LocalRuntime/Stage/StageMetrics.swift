import Handlers
import Synchronization

/// The stage's in-process functions' telemetry as Prometheus counters, served at `GET /metrics` in
/// the text exposition format (0.0.4): the same counts the deployed functions emit as CloudWatch
/// metrics (Embedded Metric Format), so dashboards and alert rules can be tried locally.
///
/// - `chat_widget_<metric>_total{function}` for every `CountedMetric` (`Messages` becomes
///   `chat_widget_messages_total`), present at 0 for every function of the template;
/// - `chat_widget_invocations_total{function,outcome}` (`ok`, or `error` for a failed invocation);
/// - `chat_widget_ai_latency_seconds{function}`, a histogram of AI provider calls.
///
/// Written by hand rather than with swift-metrics and swift-prometheus: a dozen counters and one
/// histogram do not need a metrics backend, and the local runtime's build stays as it is.
/// Functions run by `--runtime bootstrap` write their EMF lines to standard output instead.
final class StageMetrics: TelemetrySink {
    /// Upper bounds of the AI latency buckets, in seconds (the provider's timeouts are 10 s and 15 s).
    static let latencyBuckets: [Double] = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct Histogram {
        var bucketCounts = [Int](repeating: 0, count: StageMetrics.latencyBuckets.count)
        var count = 0
        var sum = 0.0
    }

    private struct State {
        var counts: [String: [CountedMetric: Int]] = [:]
        var invocations: [String: [String: Int]] = [:]
        var latency: [String: Histogram] = [:]
    }

    private let functions: [String]
    private let state = Mutex(State())

    /// `functions` (handler names) are listed at 0 before their first invocation.
    init(functions: [FunctionName]) {
        self.functions = Set(functions.map(\.rawValue)).sorted()
    }

    func publish(_ report: InvocationReport) {
        let function = report.function.rawValue
        state.withLock { state in
            for (metric, count) in report.counts { state.counts[function, default: [:]][metric, default: 0] += count }
            state.invocations[function, default: [:]][report.errorType == nil ? "ok" : "error", default: 0] += 1
            for duration in report.aiLatencies {
                let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
                var histogram = state.latency[function] ?? Histogram()
                for (index, bound) in Self.latencyBuckets.enumerated() where seconds <= bound { histogram.bucketCounts[index] += 1 }
                histogram.count += 1
                histogram.sum += seconds
                state.latency[function] = histogram
            }
        }
    }

    /// The exposition text.
    func text() -> String {
        let state = state.withLock { $0 }
        let functions = Set(functions).union(state.counts.keys).union(state.invocations.keys).sorted()
        var lines: [String] = []
        for metric in CountedMetric.allCases {
            let name = "chat_widget_\(Self.snakeCase(metric.rawValue))_total"
            lines.append("# HELP \(name) \(Self.help(metric))")
            lines.append("# TYPE \(name) counter")
            for function in functions {
                lines.append("\(name){function=\"\(function)\"} \(state.counts[function]?[metric] ?? 0)")
            }
        }
        lines.append("# HELP chat_widget_invocations_total Invocations of each function, by outcome (ok, or error for a failed invocation).")
        lines.append("# TYPE chat_widget_invocations_total counter")
        for function in functions {
            for outcome in ["ok", "error"] {
                lines.append("chat_widget_invocations_total{function=\"\(function)\",outcome=\"\(outcome)\"} \(state.invocations[function]?[outcome] ?? 0)")
            }
        }
        lines.append("# HELP chat_widget_ai_latency_seconds Time of each AI provider call to its complete reply or failure.")
        lines.append("# TYPE chat_widget_ai_latency_seconds histogram")
        for function in functions {
            let histogram = state.latency[function] ?? Histogram()
            for (index, bound) in Self.latencyBuckets.enumerated() {
                lines.append("chat_widget_ai_latency_seconds_bucket{function=\"\(function)\",le=\"\(bound)\"} \(histogram.bucketCounts[index])")
            }
            lines.append("chat_widget_ai_latency_seconds_bucket{function=\"\(function)\",le=\"+Inf\"} \(histogram.count)")
            lines.append("chat_widget_ai_latency_seconds_sum{function=\"\(function)\"} \(histogram.sum)")
            lines.append("chat_widget_ai_latency_seconds_count{function=\"\(function)\"} \(histogram.count)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One function's counters as the dev console reads them from `GET /_dev/metrics.json`.
    struct FunctionCounters: Sendable, Encodable {
        /// Every `CountedMetric` by its CloudWatch name (`Messages`, `Replies`, …), 0 included.
        var counts: [String: Int]
        /// Invocations by outcome: `ok` and `error`.
        var invocations: [String: Int]
        /// AI provider calls and their total time, in seconds: the histogram's `_count` and `_sum`.
        var aiCalls: Int
        var aiSeconds: Double

        enum CodingKeys: String, CodingKey {
            case counts, invocations, aiCalls = "ai_calls", aiSeconds = "ai_seconds"
        }
    }

    /// The same counters as `text()`, by function (handler name), for the dev console's metrics panel.
    func snapshot() -> [String: FunctionCounters] {
        let state = state.withLock { $0 }
        let functions = Set(functions).union(state.counts.keys).union(state.invocations.keys)
        var result: [String: FunctionCounters] = [:]
        for function in functions {
            let latency = state.latency[function] ?? Histogram()
            result[function] = FunctionCounters(
                counts: Dictionary(uniqueKeysWithValues: CountedMetric.allCases.map { ($0.rawValue, state.counts[function]?[$0] ?? 0) }),
                invocations: ["ok": state.invocations[function]?["ok"] ?? 0, "error": state.invocations[function]?["error"] ?? 0],
                aiCalls: latency.count, aiSeconds: latency.sum)
        }
        return result
    }

    /// `RateLimitExceeded` → `rate_limit_exceeded`, `AIErrors` → `ai_errors`.
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name)
        var result = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                if previous.isLowercase || (previous.isUppercase && nextIsLower) { result.append("_") }
            }
            result.append(contentsOf: character.lowercased())
        }
        return result
    }

    private static func help(_ metric: CountedMetric) -> String {
        switch metric {
        case .messages: "User messages that reached the chat policy (chat POST or sendMessage), refused or not."
        case .replies: "Replies handed to users."
        case .aiErrors: "AI provider failures answered with the fallback (processing_error)."
        case .blocked: "Requests refused because their client was blocked."
        case .blocksStarted: "Automatic blocks begun."
        case .adminAuthenticationFailures: "Admin API requests without a valid bearer token."
        default: "Requests refused as \(metric.rawValue) security events."
        }
    }
}
