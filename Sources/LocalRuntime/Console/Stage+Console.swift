import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// The dev console's routes on the stage: the page, its live log, the metrics as JSON, the OpenAPI
/// document, the widget's greeting, the fixture list and replay.
///
/// Only the stage's own host names are answered, and only the stage's own pages may call the log,
/// the fixture list and replay (`LocalAccessPolicy`); replay also takes nothing but
/// `application/json`, which a cross-site form cannot send without a preflight. No route sends
/// CORS headers, so no other origin can read what they return (the log names connection ids).
extension Stage {
    /// The directory whose fixtures the console lists and replays.
    static let fixturesDirectory = "events"
    /// The largest replay request: `{"path": "..."}`.
    static let maxReplayRequestBytes = 4096

    func console(_ request: Request) async throws -> Response? {
        let path = request.uri.path
        guard path == "/" || path == "/_dev" || path.hasPrefix("/_dev/") else { return nil }
        // Following a link to the page from elsewhere is harmless: it acts only on the user's input
        // and cannot be framed. Everything it fetches must come from itself.
        let isPage = request.method == .get && ["/", "/_dev", "/_dev/"].contains(path)
        if let refusal = localAccessRefusal(request, allowCrossSite: isPage) { return refusal }
        switch (request.method, path) {
        case (.get, "/"):
            var headers = HTTPFields()
            headers[.location] = "/_dev"
            return Response(status: .found, headers: headers)
        case (.get, "/_dev"), (.get, "/_dev/"):
            var headers = ConsolePage.securityHeaders(authority: request.head.authority ?? domainName)
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: ConsolePage.html)))
        case (.get, "/_dev/log"):
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-store"
            headers.append(ConsolePage.noSniff)
            let records = feed.subscribe()
            // The stream never ends by itself, and a closed page is only noticed at the next write:
            // it ends on the stage's graceful shutdown, or Ctrl-C would wait for it forever.
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                try await withGracefulShutdownHandler {
                    for await record in records.stream {
                        try await writer.write(ByteBuffer(string: "data: \(JSONCoding.string(encoding: record))\n\n"))
                    }
                } onGracefulShutdown: {
                    records.end()
                }
                try await writer.finish(nil)
            })
        case (.get, "/_dev/metrics.json"):
            // What /metrics counts, as JSON the page polls rather than parsing the exposition text.
            return Self.response(status: 200, headers: ["Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
                                                        "Cache-Control": "no-store"],
                                 body: Array(JSONCoding.string(encoding: metrics.snapshot()).utf8))
        case (.get, "/_dev/openapi.yaml"):
            return openAPIResponse()
        case (.get, "/_dev/widget"):
            let widgetId = request.uri.queryParameters["widget_id"].map(String.init) ?? DemoWidget.id
            guard let greeting = await widgetGreeting(widgetId) else {
                return Self.json(404, ["message": "no active widget \(widgetId) with a greeting"])
            }
            return Self.response(status: 200, headers: ["Content-Type": "application/json", "X-Content-Type-Options": "nosniff"],
                                 body: Array(JSONCoding.string(["widget_id": widgetId, "greeting": greeting]).utf8))
        case (.get, "/_dev/fixtures"):
            let files = (try? ReplayRunner.fixtures(in: [Self.fixturesDirectory])) ?? []
            return Self.response(status: 200, headers: ["Content-Type": "application/json", "X-Content-Type-Options": "nosniff"],
                                 body: Array(JSONCoding.string(files).utf8))
        case (.post, "/_dev/replay"):
            guard Self.isJSON(request.headers[.contentType]) else {
                return Self.json(415, ["message": "Content-Type must be application/json"])
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: Self.maxReplayRequestBytes)
            } catch is NIOTooManyBytesError {
                return Self.json(413, ["message": "a replay request is at most \(Self.maxReplayRequestBytes) bytes"])
            }
            guard let path = (try? JSONDecoder().decode([String: String].self, from: Data(body.readableBytesView)))?["path"],
                  let fixtures = try? ReplayRunner.fixtures(in: [Self.fixturesDirectory]), fixtures.contains(path) else {
                return Self.json(400, ["message": "path must be one of the fixtures listed by /_dev/fixtures"])
            }
            return await replayFixture(path)
        default:
            return nil
        }
    }

    /// The OpenAPI document read at start-up, or a 404 that says where it was looked for.
    func openAPIResponse() -> Response {
        guard let bytes = openAPI.bytes else {
            let searched = openAPI.searched.isEmpty ? "" : " (looked for \(openAPI.searched.joined(separator: " and ")))"
            return Self.json(404, ["message": "no OpenAPI document: \(OpenAPIDocument.relativePath) was not found when the stage started\(searched)"])
        }
        return Self.response(status: 200, headers: ["Content-Type": "application/yaml; charset=utf-8", "X-Content-Type-Options": "nosniff"],
                             body: bytes)
    }

    /// Whether a `Content-Type` value is JSON's media type, parameters (`; charset=utf-8`) aside.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmed() } ?? ""
        return mediaType.lowercased() == "application/json"
    }

    /// Invokes one fixture through the stage's invoker; the invocation shows up in the log like any other.
    private func replayFixture(_ path: String) async -> Response {
        guard let payload = FileManager.default.contents(atPath: path).map(Array.init),
              let routed = try? EventRouting(template: template).route(payload) else {
            return Self.json(400, ["message": "\(path) is not an API Gateway event of this template"])
        }
        let response = await invoke(routed.function, payload: payload, route: "replay \(routed.route)", id: (path as NSString).lastPathComponent)
        return Self.response(status: 200, headers: ["Content-Type": "application/json"],
                             body: Array(JSONCoding.string(response ?? .object(["error": .string("invocation failed")])).utf8))
    }
}
