import Foundation
import Handlers
import SQLiteStore
import Synchronization
import Testing

/// Keeps every report it is given.
final class RecordingTelemetry: TelemetrySink {
    private let reports = Mutex<[InvocationReport]>([])
    var published: [InvocationReport] { reports.withLock { $0 } }
    func publish(_ report: InvocationReport) { reports.withLock { $0.append(report) } }
}

@Suite("each invocation reports to the telemetry sink once")
struct TelemetryTests {
    func chatFunction(_ harness: Harness, _ telemetry: RecordingTelemetry) -> AnyLambdaFunction {
        var dependencies = harness.dependencies
        dependencies.telemetry = telemetry
        return Functions.make(.chat, dependencies: dependencies)
    }

    func chatEvent(_ body: String, origin: String = "http://localhost:5173") -> [UInt8] {
        JSONValue.object([
            "version": .string("2.0"), "routeKey": .string("POST /api/chat"), "rawPath": .string("/api/chat"),
            "headers": .object(["origin": .string(origin), "content-type": .string("application/json")]),
            "requestContext": .object([
                "requestId": .string("r1"), "timeEpoch": .number(1_764_000_000_000),
                "http": .object(["method": .string("POST"), "path": .string("/api/chat"), "sourceIp": .string("198.51.100.9")]),
            ]),
            "body": .string(body), "isBase64Encoded": .bool(false),
        ]).jsonBytes
    }

    @Test("an answered message counts a message, a reply and one AI call, and names its widget")
    func answered() async throws {
        let harness = try await Harness()
        let telemetry = RecordingTelemetry()
        _ = try await chatFunction(harness, telemetry).invoke(chatEvent(Harness.chatBody()), context: harness.context)
        let report = try #require(telemetry.published.first)
        #expect(telemetry.published.count == 1)
        #expect(report.function == .chat && report.statusCode == 200 && report.errorType == nil)
        #expect(report.counts == [.messages: 1, .replies: 1])
        #expect(report.aiLatencies.count == 1)
        #expect(report.widgetId == DemoWidget.id)
        #expect(report.refusals.isEmpty)
    }

    @Test("a refusal is counted by type, and a widget a client made up is not named")
    func refused() async throws {
        let harness = try await Harness()
        let telemetry = RecordingTelemetry()
        let body = Harness.chatBody(widget: "widget_nobody_has_this_one")
        _ = try await chatFunction(harness, telemetry).invoke(chatEvent(body), context: harness.context)
        let report = try #require(telemetry.published.first)
        #expect(report.statusCode == 404)
        #expect(report.counts == [.widgetNotFound: 1])
        #expect(report.refusals == [.init(event: .widgetNotFound, widgetId: nil)])
        #expect(report.widgetId == nil)
    }

    @Test("a failed invocation is reported with its error type, and without a sink nothing is counted")
    func failed() async throws {
        let harness = try await Harness()
        let telemetry = RecordingTelemetry()
        await #expect(throws: InvocationError.self) {
            _ = try await chatFunction(harness, telemetry).invoke(Array("{\"version\":".utf8), context: harness.context)
        }
        #expect(telemetry.published.map(\.errorType) == ["Runtime.MalformedEvent"])
        InvocationTelemetry.count(.messages)  // outside an observed invocation: no effect, no crash
    }
}
