import Handlers
import LambdaRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Lambda's log levels, least to most severe (`AWS_LAMBDA_LOG_LEVEL`).
public enum LambdaLogLevel: Int, Comparable, Sendable, CaseIterable {
    case trace, debug, info, warn, error, fatal

    public init?(_ text: String) {
        guard let level = Self.allCases.first(where: { $0.name == text.uppercased() }) else { return nil }
        self = level
    }

    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Each invocation's report as CloudWatch wants it, written to standard output in one `write`:
///
/// - one line per refusal (level WARN): request id, function, security event type, widget (when it
///   exists);
/// - one line per invocation (INFO; ERROR when it failed): request id, function, widget, status or
///   error type, duration — and, when it counted anything, its metrics in Embedded Metric Format
///   (`_aws`), which CloudWatch turns into metrics without any call on the invocation's path.
///
/// Metrics have the dimension sets `[function]` and `[]`: per function, and the total that the
/// template's alarms watch. Widget ids are log fields, never dimensions (bounded cardinality).
/// Nothing a client wrote is in any line: no message text, origin, IP address or user agent.
///
/// Lambda's advanced logging controls are honoured: with `AWS_LAMBDA_LOG_FORMAT=JSON` every line is
/// a JSON object with `timestamp`, `level` and `message`; otherwise refusal lines are plain text
/// and the invocation line stays JSON (EMF needs it). Lines below `AWS_LAMBDA_LOG_LEVEL` are not
/// written — except an invocation line that carries metrics in text format, where Lambda does not
/// filter and the metrics would otherwise be lost. (In JSON format Lambda itself drops INFO lines
/// under a WARN level, metrics included: `warningsAtInit` says so once, at ERROR.)
public struct LambdaLogSink: TelemetrySink {
    public enum Format: Sendable { case text, json }

    public let format: Format
    public let level: LambdaLogLevel
    public let namespace: String
    private let write: @Sendable ([UInt8]) -> Void

    /// Reads `AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL` and `METRICS_NAMESPACE` (default
    /// `ChatWidget`); `write` defaults to standard output, where Lambda collects the lines.
    public init(environment: [String: String], write: @escaping @Sendable ([UInt8]) -> Void = LambdaLogSink.standardOutput) {
        format = environment["AWS_LAMBDA_LOG_FORMAT"]?.uppercased() == "JSON" ? .json : .text
        level = environment["AWS_LAMBDA_LOG_LEVEL"].flatMap(LambdaLogLevel.init) ?? .info
        namespace = environment["METRICS_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? "ChatWidget"
        self.write = write
    }

    /// Lines to log once at init, at level ERROR: a configuration that silences the metrics the
    /// alarms watch is an operational failure, and must survive the level that causes it.
    public var warningsAtInit: [String] {
        guard format == .json, level > .info else { return [] }
        return ["AWS_LAMBDA_LOG_LEVEL=\(level.name) drops this runtime's INFO invocation lines, and with them its Embedded Metric Format metrics; set the application log level to INFO for metrics"]
    }

    /// Writes `message` at `level` in the configured format, if the level admits it.
    public func log(_ message: String, level lineLevel: LambdaLogLevel, now: Date = Date()) {
        guard lineLevel >= level else { return }
        let line: String = switch format {
        case .json:
            JSONValue.object(["timestamp": .string(ISO8601.stringWithMilliseconds(now)), "level": .string(lineLevel.name),
                              "message": .string(message)]).jsonString
        case .text:
            "\(lineLevel.name) \(message)"
        }
        write(Array((line + "\n").utf8))
    }

    public func publish(_ report: InvocationReport) {
        publish(report, now: Date())
    }

    /// The lines of `report` as `publish` writes them, at `now`.
    func lines(for report: InvocationReport, now: Date) -> [String] {
        let timestamp = ISO8601.stringWithMilliseconds(now)
        var lines: [String] = []
        if level <= .warn {
            for refusal in report.refusals {
                var fields: [String: JSONValue] = [
                    "type": .string("refusal"), "requestId": .string(report.requestId), "function": .string(report.function.rawValue),
                    "event": .string(refusal.event.rawValue),
                ]
                if let widget = refusal.widgetId { fields["widgetId"] = .string(widget) }
                switch format {
                case .json:
                    fields["timestamp"] = .string(timestamp)
                    fields["level"] = .string(LambdaLogLevel.warn.name)
                    fields["message"] = .string("refused: \(refusal.event.rawValue)")
                    lines.append(JSONValue.object(fields).jsonString)
                case .text:
                    lines.append("WARN refusal requestId=\(report.requestId) function=\(report.function.rawValue) event=\(refusal.event.rawValue)"
                                 + (refusal.widgetId.map { " widgetId=\($0)" } ?? ""))
                }
            }
        }
        let invocationLevel: LambdaLogLevel = report.errorType == nil ? .info : .error
        let metrics = metricFields(report, timestamp: now)
        guard invocationLevel >= level || (format == .text && !metrics.isEmpty) else { return lines }
        var fields = metrics
        fields["type"] = .string("invocation")
        fields["requestId"] = .string(report.requestId)
        fields["function"] = .string(report.function.rawValue)
        fields["durationMs"] = .number(Self.milliseconds(report.duration))
        if let status = report.statusCode { fields["status"] = .number(Double(status)) }
        if let errorType = report.errorType { fields["errorType"] = .string(errorType) }
        if let widget = report.widgetId { fields["widgetId"] = .string(widget) }
        if format == .json {
            fields["timestamp"] = .string(timestamp)
            fields["level"] = .string(invocationLevel.name)
            fields["message"] = .string("\(report.function.rawValue) " + (report.errorType ?? "\(report.statusCode ?? 0)"))
        }
        lines.append(JSONValue.object(fields).jsonString)
        return lines
    }

    private func publish(_ report: InvocationReport, now: Date) {
        let text = lines(for: report, now: now).map { $0 + "\n" }.joined()
        if !text.isEmpty { write(Array(text.utf8)) }
    }

    /// The `_aws` metadata and the metric values, or nothing when the invocation counted nothing.
    private func metricFields(_ report: InvocationReport, timestamp: Date) -> [String: JSONValue] {
        guard !report.counts.isEmpty || !report.aiLatencies.isEmpty else { return [:] }
        var fields: [String: JSONValue] = [:]
        var definitions: [JSONValue] = []
        for metric in CountedMetric.allCases {
            guard let count = report.counts[metric] else { continue }
            fields[metric.rawValue] = .number(Double(count))
            definitions.append(.object(["Name": .string(metric.rawValue), "Unit": .string("Count")]))
        }
        if !report.aiLatencies.isEmpty {
            fields[Self.aiLatencyMetric] = .array(report.aiLatencies.map { .number(Self.milliseconds($0)) })
            definitions.append(.object(["Name": .string(Self.aiLatencyMetric), "Unit": .string("Milliseconds")]))
        }
        fields["_aws"] = .object([
            "Timestamp": .number((timestamp.timeIntervalSince1970 * 1000).rounded()),
            "CloudWatchMetrics": .array([.object([
                "Namespace": .string(namespace),
                "Dimensions": .array([.array([.string("function")]), .array([])]),
                "Metrics": .array(definitions),
            ])]),
        ])
        return fields
    }

    /// The AI provider's time to a complete reply, in milliseconds.
    public static let aiLatencyMetric = "AILatency"

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
    }

    /// Writes to file descriptor 1 in full, retrying short writes.
    public static let standardOutput: @Sendable ([UInt8]) -> Void = { bytes in
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = FileDescriptorWrite.write(1, UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
