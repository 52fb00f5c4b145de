import Foundation
import Handlers
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

        try await ConnectionsCollector.run(stageName: template.stageName, poster: poster) { endpoint in
            var environment = ReplayRunner.environment(ProcessInfo.processInfo.environment)
            environment["STORE"] = "sqlite"
            environment["STATE_PATH"] = statePath
            environment["CLOCK"] = "event"
            environment["WEBSOCKET_MANAGEMENT_ENDPOINT"] = endpoint
            environment["AI_API_KEY"] = nil
            let pool = LambdaPool(log: { _ in })
            let invoker = BootstrapInvoker(pool: pool, bootstrapPath: bootstrapPath, environment: environment)
            do {
                try await body(invoker)
            } catch {
                await pool.shutdown()
                throw error
            }
            await pool.shutdown()
        }
    }
}
