import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SQLiteStore

/// Replay through the deployed binary: the template's functions run as `bootstrap` processes over
/// the Runtime API, on one fresh SQLite file, each event at its recorded time (`CLOCK=event`), and
/// the frames they post to `@connections` are collected by a local endpoint for the expectations.
enum BootstrapReplay {
    static func run(template: Template, bootstrapPath: String, poster: CollectingPoster,
                    _ body: (any FunctionInvoker) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let statePath = directory.appendingPathComponent("state.sqlite").path
        try await LocalFunctions.seedDemoWidget(in: SQLiteStore(.file(statePath)), now: Date(timeIntervalSince1970: 0))

        let port = try Serve.freePort(host: "127.0.0.1")
        let router = Router()
        router.post("/\(template.stageName)/@connections/:id") { request, context -> Response in
            let body = try await request.body.collect(upTo: 128 * 1024)
            let id = context.parameters.get("id").map { $0.removingPercentEncoding ?? $0 } ?? ""
            try await poster.post(Array(body.readableBytesView), to: id, endpoint: "replay")
            return Response(status: .ok)
        }
        let ready = AsyncStream<Void>.makeStream()
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { _ in ready.continuation.yield() },
            logger: Logger(label: "replay-connections") { _ in SwiftLogNoOpLogHandler() })
        let server = Task { try? await app.run() }
        defer { server.cancel() }
        var iterator = ready.stream.makeAsyncIterator()
        _ = await iterator.next()

        var environment = ReplayRunner.environment(ProcessInfo.processInfo.environment)
        environment["STORE"] = "sqlite"
        environment["STATE_PATH"] = statePath
        environment["CLOCK"] = "event"
        environment["WEBSOCKET_MANAGEMENT_ENDPOINT"] = "http://127.0.0.1:\(port)/\(template.stageName)"
        environment["AI_API_KEY"] = nil
        let pool = LambdaPool(log: { _ in })
        let invoker = BootstrapInvoker(pool: pool, bootstrapPath: bootstrapPath, environment: environment)
        try await body(invoker)
        await pool.shutdown()
    }
}
