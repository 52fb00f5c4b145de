import Foundation
import Handlers
import SQLiteStore
import Synchronization

/// Frames posted to connections during a test.
final class RecordingPoster: ConnectionPoster {
    private let posted = Mutex<[(connectionId: String, frame: [String: JSONValue])]>([])
    /// How long each POST takes, as the `@connections` round trip does.
    let latency: Duration

    init(latency: Duration = .zero) {
        self.latency = latency
    }

    func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws {
        if latency > .zero { try await Task.sleep(for: latency) }
        guard case .object(let frame) = try JSONDecoder().decode(JSONValue.self, from: Data(data)) else { return }
        posted.withLock { $0.append((connectionId, frame)) }
    }

    var frames: [[String: JSONValue]] { posted.withLock { $0.map(\.frame) } }
}

/// Handlers wired to an in-memory SQLite store with the demo widget, the embedded responder, a
/// recording poster and a test clock.
struct Harness {
    let store: SQLiteStore
    let poster: RecordingPoster
    let clock = SettableClock(Date(timeIntervalSince1970: 1_764_000_000))
    let dependencies: Dependencies

    init(environment: [String: String] = [:], widget: WidgetConfig? = nil, ai: any AIProvider = EmbeddedResponder(),
         poster: RecordingPoster = RecordingPoster()) async throws {
        store = try SQLiteStore(.inMemory)
        self.poster = poster
        try await store.putWidget(widget ?? DemoWidget.make(createdAt: clock.now()))
        dependencies = Dependencies(store: store, ai: ai, poster: poster, clock: clock,
                                    configuration: Configuration(environment: ["DEFAULT_WIDGET_ID": DemoWidget.id].merging(environment) { $1 }))
    }

    var context: InvocationContext {
        InvocationContext(requestId: UUID().uuidString, deadline: clock.now().addingTimeInterval(30))
    }

    func chat(_ body: String?, origin: String? = "http://localhost:5173", method: String = "POST", ip: String = "198.51.100.7",
              headers extra: [String: String] = [:], base64: Bool = false) async throws -> (status: Int, headers: HeaderFields, body: JSONValue?) {
        var fields = extra
        if let origin { fields["origin"] = origin }
        let request = HTTPRouteRequest(method: method, path: "/api/chat", headers: HeaderFields(fields), sourceIp: ip,
                                  body: base64 ? body.map { Data($0.utf8).base64EncodedString() } : body, isBase64Encoded: base64)
        let response = try await ChatFunction(dependencies: dependencies).handle(request, context: context)
        return (response.statusCode, response.headers, try? JSONDecoder().decode(JSONValue.self, from: Data(response.body.utf8)))
    }

    /// The token the tests' chat POSTs prove their conversations with, so that they continue one another.
    static let conversationToken = "T2MEWOR5ZqlYhKZaFqkHaA"

    static func chatBody(message: String = "What are your opening hours?", widget: String = DemoWidget.id, conversation: String = "c-1",
                         token: String? = conversationToken) -> String {
        var body = ["widget_id": widget, "conversation_id": conversation, "message": message]
        body["conversation_token"] = token
        return JSONCoding.string(body)
    }

    /// Where the messages of `conversation`, proven with `conversationToken`, are stored.
    static func storageKey(_ conversation: String = "c-1", widget: String = DemoWidget.id) -> String {
        ConversationToken(conversationToken)!.storageKey(widgetId: widget, conversationId: conversation)
    }

    func connect(query: [String: String], origin: String? = "http://localhost:5173", connectionId: String = "IU3kkeN4IAMCJwA=",
                 ip: String = "203.0.113.10") async throws -> WebSocketResponse {
        let event = WebSocketEvent(
            requestContext: .init(routeKey: "$connect", eventType: .connect, connectionId: connectionId, domainName: "abc.example",
                                  stage: "dev", requestTimeEpoch: 0, connectedAt: 0, identity: .init(sourceIp: ip, userAgent: "test")),
            headers: origin.map { ["Origin": $0] } ?? [:], queryStringParameters: query)
        return try await ConnectFunction(dependencies: dependencies).handle(event, context: context)
    }

    func send(_ body: String, connectionId: String = "IU3kkeN4IAMCJwA=", ip: String = "203.0.113.10") async throws -> WebSocketResponse {
        let event = WebSocketEvent(
            requestContext: .init(routeKey: "sendMessage", eventType: .message, connectionId: connectionId, messageId: "m",
                                  domainName: "abc.example", stage: "dev", requestTimeEpoch: 0, connectedAt: 0,
                                  identity: .init(sourceIp: ip, userAgent: "test")),
            body: body)
        return try await SendMessageFunction(dependencies: dependencies).handle(event, context: context)
    }

    func events(_ type: SecurityEventType? = nil) async throws -> [SecurityEvent] {
        try await store.securityEvents(SecurityEventQuery(type: type, since: Date(timeIntervalSince1970: 0), limit: 1000))
    }
}
