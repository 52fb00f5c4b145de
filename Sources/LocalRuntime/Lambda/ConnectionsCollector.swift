import Foundation
import Hummingbird
import Logging

/// A local `@connections` endpoint for functions running as `bootstrap` processes without a stage
/// (`replay --runtime bootstrap`, `invoke --runtime bootstrap`): what they post is collected by
/// `poster` instead of reaching a connection, and refused (410, 413) as the stage refuses it.
enum ConnectionsCollector {
    /// Serves `POST /{stageName}/@connections/{id}` on a free loopback port while `body` runs with
    /// the management endpoint to give the functions (`WEBSOCKET_MANAGEMENT_ENDPOINT`).
    static func run<T>(stageName: String, poster: CollectingPoster, _ body: (_ endpoint: String) async throws -> T) async throws -> T {
        let port = try Serve.freePort(host: "127.0.0.1")
        let router = Router()
        let posting = poster.posting(endpoint: "local")
        router.post("/\(stageName)/@connections/:id") { request, context -> Response in
            let id = context.parameters.get("id").map { $0.removingPercentEncoding ?? $0 } ?? ""
            return try await posting.respond(to: request, connectionId: id)
        }
        let ready = AsyncStream<Void>.makeStream()
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { _ in ready.continuation.yield() },
            logger: Logger(label: "local-connections") { _ in SwiftLogNoOpLogHandler() })
        let server = Task { try? await app.run() }
        defer { server.cancel() }
        var iterator = ready.stream.makeAsyncIterator()
        _ = await iterator.next()
        return try await body("http://127.0.0.1:\(port)/\(stageName)")
    }
}
