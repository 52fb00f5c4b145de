#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `$connect`: admits a widget page's WebSocket and remembers who it is. A non-2xx answer makes API
/// Gateway reject the handshake with that status.
public struct ConnectFunction: WebSocketRouteFunction {
    /// Connection records outlive API Gateway's 2-hour hard limit by a margin, then expire.
    static let recordLifetime: TimeInterval = 3 * 3600

    public let dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    public func handle(_ event: WebSocketEvent, context: InvocationContext) async throws -> WebSocketResponse {
        let query = event.queryStringParameters ?? [:]
        let headers = event.headerFields
        let identity = event.requestContext.identity
        let client = SecurityEventRecorder.Client(
            widgetId: nil, origin: RequestOrigin(headers: headers), sourceIp: identity?.sourceIp ?? "0.0.0.0",
            userAgent: identity?.userAgent ?? headers["user-agent"], requestId: context.requestId)

        guard let sessionId = query["sessionId"], !sessionId.isEmpty else {
            return Self.reject(.invalidRequest("sessionId is required."))
        }
        guard Identifiers.isValidConversationId(sessionId) else {
            return Self.reject(.invalidRequest("sessionId must be 1-128 letters, digits or _-.:"))
        }
        let widgetId = query["widget_id"] ?? query["widgetId"]
        let gate = WidgetGate(dependencies: dependencies)
        switch try await gate.admit(widgetId: widgetId, client: client) {
        case .failure(let refused):
            return Self.reject(refused.refusal)
        case .success(let admitted):
            // A blocked client opens no connection.
            if let blocked = try await gate.refusalIfBlocked(admitted.client, details: ["limit_type": "blocked", "route": "$connect"]) {
                return Self.reject(blocked)
            }
            let now = dependencies.clock.now()
            let userId = event.requestContext.authorizer?["principalId"]?.stringValue ?? "anonymous"
            try await dependencies.store.putConnection(ConnectionRecord(
                connectionId: event.requestContext.connectionId, widgetId: admitted.widget.widgetId, sessionId: sessionId,
                origin: admitted.origin?.description, sourceIp: client.sourceIp, userAgent: client.userAgent, userId: userId,
                connectedAt: now, expiresAt: now.addingTimeInterval(Self.recordLifetime)))
            return WebSocketResponse(statusCode: 200)
        }
    }

    static func reject(_ refusal: Refusal) -> WebSocketResponse {
        var headers = ["Content-Type": "application/json"]
        if let retry = refusal.retryAfter { headers["Retry-After"] = "\(retry)" }
        return WebSocketResponse(statusCode: refusal.code.status, headers: headers,
                                 body: JSONCoding.string(["error": refusal.code.rawValue, "message": refusal.message]))
    }
}

/// `$disconnect`: forgets the connection. API Gateway delivers it at most once and not always, so it
/// is idempotent and connection records also expire on their own.
public struct DisconnectFunction: WebSocketRouteFunction {
    public let dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    public func handle(_ event: WebSocketEvent, context: InvocationContext) async throws -> WebSocketResponse {
        _ = try await dependencies.store.removeConnection(id: event.requestContext.connectionId)
        return WebSocketResponse(statusCode: 200)
    }
}
