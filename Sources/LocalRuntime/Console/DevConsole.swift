import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Fans the stage's invocation records out to every open dev-console log (Server-Sent Events).
final class InvocationFeed: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<InvocationRecord>.Continuation]>([:])

    func publish(_ record: InvocationRecord) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(record) }
    }

    func subscribe() -> AsyncStream<InvocationRecord> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<InvocationRecord>.makeStream(bufferingPolicy: .bufferingNewest(200))
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { _ = $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }
}

/// The dev console's routes on the stage: the page, its live log, the fixture list and replay.
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
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                for await record in records {
                    try await writer.write(ByteBuffer(string: "data: \(JSONCoding.string(record))\n\n"))
                }
                try await writer.finish(nil)
            })
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
