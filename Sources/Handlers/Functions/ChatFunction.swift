#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `chat`: the public HTTP endpoint `POST /api/chat` (and its `OPTIONS` preflight). It needs no
/// CSRF token — it is a cross-origin API protected by the widget's domain allowlist and server-side
/// limits, not a cookie-authenticated form (README, “Security model”).
public struct ChatFunction: HTTPRouteFunction {
    public let dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    public func handle(_ request: HTTPRouteRequest, context: InvocationContext) async throws -> HTTPRouteResponse {
        SecurityHeaders.apply(to: try await respond(to: request, context: context), for: request)
    }

    private func respond(to request: HTTPRouteRequest, context: InvocationContext) async throws -> HTTPRouteResponse {
        let client = SecurityEventRecorder.Client(
            widgetId: nil, origin: RequestOrigin(headers: request.headers), sourceIp: request.sourceIp,
            userAgent: request.userAgent, requestId: context.requestId)
        let headerWidgetId = request.headers["x-widget-id"] ?? request.queryParameters["widget_id"]

        if request.method == "OPTIONS" {
            return try await preflight(request, client: client, widgetId: headerWidgetId)
        }
        guard request.method == "POST" else {
            var response = try await failure(.invalidRequest("Use POST to send a chat message."), request, client: client, widgetId: headerWidgetId)
            response.statusCode = 405
            response.headers.set("Allow", "POST, OPTIONS")
            return response
        }

        let body: Body
        do {
            let bytes = try request.bodyBytes(limit: dependencies.configuration.maxBodyBytes)
            body = try Body(jsonBytes: bytes)
        } catch BodyError.tooLarge(let limit) {
            return try await failure(Refusal(.payloadTooLarge, "The request body must be at most \(limit) bytes."), request,
                                     client: client, widgetId: headerWidgetId)
        } catch {
            return try await failure(.invalidRequest("The request body is not valid chat JSON: \(DecodingErrorSummary(error))."), request,
                                     client: client, widgetId: headerWidgetId)
        }
        let widgetId = headerWidgetId ?? body.widgetId

        let admitted: WidgetGate.Admitted
        switch try await WidgetGate(dependencies: dependencies).admit(widgetId: widgetId, client: client) {
        case .failure(let refused):
            return Self.respond(refused.refusal, cors: refused.readableBy.map { CORS().headers(for: $0) } ?? HeaderFields(),
                                format: request.format)
        case .success(let gateAdmitted):
            admitted = gateAdmitted
        }
        let widget = admitted.widget
        let cors = admitted.origin.map { CORS().headers(for: $0) } ?? HeaderFields()

        switch Self.validate(body) {
        case .failure(let refusal):
            return Self.respond(refusal, cors: cors, format: request.format)
        case .success(let (conversationId, token, message, history)):
            let turn = ChatTurnRequest(widget: widget, conversationId: conversationId, conversationToken: token ?? .random(),
                                       message: message, clientHistory: history, client: admitted.client, perIPLimit: true,
                                       deadline: context.deadline)
            switch try await ChatService(dependencies: dependencies).respond(to: turn) {
            case .failure(let refusal):
                return Self.respond(refusal, cors: cors, format: request.format)
            case .success(let result):
                var headers = cors
                headers.set("Content-Type", "application/json")
                let body = Success(response: result.reply, conversationId: conversationId, conversationToken: turn.conversationToken,
                                   usage: result.usage)
                return HTTPRouteResponse(statusCode: 200, headers: headers, body: body.jsonValue.jsonString, format: request.format)
            }
        }
    }

    /// The conversation id, the token proving it is the client's (nil: a new conversation), the new
    /// message and any client-supplied history, or why the body is invalid.
    static func validate(_ body: Body) -> Result<(String, ConversationToken?, String, [ChatTurn]?), Refusal> {
        guard let conversationId = body.conversationId else {
            return .failure(.invalidRequest("conversation_id is required."))
        }
        guard Identifiers.isValidConversationId(conversationId) else {
            return .failure(.invalidRequest("conversation_id must be 1-128 letters, digits or _-.:"))
        }
        let token: ConversationToken?
        switch ConversationToken.sent(body.conversationToken) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let sent): token = sent
        }
        let message: String
        var history: [ChatTurn]?
        switch (body.message, body.messages) {
        case (.some, .some):
            return .failure(.invalidRequest("Send either message or messages, not both."))
        case (nil, nil):
            return .failure(.invalidRequest("message is required."))
        case (.some(let text), nil):
            message = text
        case (nil, .some(let turns)):
            guard (1...50).contains(turns.count) else {
                return .failure(.invalidRequest("messages must hold 1 to 50 items."))
            }
            guard let last = turns.last, last.role == .user else {
                return .failure(.invalidRequest("The last item of messages must have role user."))
            }
            guard !turns.contains(where: { $0.role == .system }) else {
                return .failure(.invalidRequest("messages may only have the roles user and assistant."))
            }
            message = last.content
            history = Array(turns.dropLast())
        }
        guard !message.trimmed().isEmpty else {
            return .failure(.invalidRequest("message must not be empty."))
        }
        return .success((conversationId, token, message, history))
    }

    /// `OPTIONS`: 204 with CORS headers when the origin may use the named widget, is first-party, or
    /// belongs to the domain of some active widget (a preflight carries no body to name the widget).
    private func preflight(_ request: HTTPRouteRequest, client: SecurityEventRecorder.Client, widgetId: String?) async throws -> HTTPRouteResponse {
        guard let origin = try await WidgetGate(dependencies: dependencies).allowedOrigin(client: client, widgetId: widgetId) else {
            try await SecurityEventRecorder(store: dependencies.store, clock: dependencies.clock, configuration: dependencies.configuration)
                .refuse(.originNotAllowed, client: client, details: ["reason": "preflight from an origin no widget allows"])
            return HTTPRouteResponse(statusCode: 403, format: request.format)
        }
        return HTTPRouteResponse(statusCode: 204, headers: CORS().headers(for: origin), format: request.format)
    }

    /// A refusal of the request itself (method, body), before any widget is looked at: CORS headers
    /// only if the origin is allowed anyway — first-party, or a domain of the named or of any active
    /// widget — so that a widget page can read why its request failed even when its body named no
    /// widget (docs/protocol.md). The widget gate's refusals carry the same answer (`WidgetGate.Refused`).
    private func failure(_ refusal: Refusal, _ request: HTTPRouteRequest, client: SecurityEventRecorder.Client, widgetId: String?) async throws -> HTTPRouteResponse {
        let allowed = try await WidgetGate(dependencies: dependencies).allowedOrigin(client: client, widgetId: widgetId)
        return Self.respond(refusal, cors: allowed.map { CORS().headers(for: $0) } ?? HeaderFields(), format: request.format)
    }

    static func respond(_ refusal: Refusal, cors: HeaderFields, format: HTTPRouteRequest.PayloadFormat) -> HTTPRouteResponse {
        var headers = cors
        headers.set("Content-Type", "application/json")
        if let retry = refusal.retryAfter { headers.set("Retry-After", "\(retry)") }
        let body = Failure(error: refusal.code.rawValue, message: refusal.message, retryAfter: refusal.retryAfter,
                           blockExpiresAt: refusal.blockExpiresAt.map(ISO8601.string))
        return HTTPRouteResponse(statusCode: refusal.code.status, headers: headers, body: body.jsonValue.jsonString, format: format)
    }
}

/// The chat POST's request body and its two answers, as docs/protocol.md writes them.
extension ChatFunction {
    struct Body: JSONValueDecodable {
        var widgetId: String?
        var conversationId: String?
        var conversationToken: String?
        var message: String?
        var messages: [ChatTurn]?

        init(json: JSONValue) throws(JSONShapeError) {
            let fields = try JSONFields(json)
            widgetId = try fields.decodeIfPresent("widget_id")
            // `??` would erase the typed throw of its right-hand side.
            conversationId = try fields.decodeIfPresent("conversation_id")
            if conversationId == nil { conversationId = try fields.decodeIfPresent("sessionId") }
            conversationToken = try fields.decodeIfPresent("conversation_token")
            message = try fields.decodeIfPresent("message")
            messages = try fields.decodeIfPresent("messages")
        }
    }

    struct Success: JSONValueEncodable {
        var response: String
        var conversationId: String
        var conversationToken: ConversationToken
        var usage: Usage

        var jsonValue: JSONValue {
            .object(["success": .bool(true), "response": .string(response), "conversation_id": .string(conversationId),
                     "conversation_token": .string(conversationToken.description), "usage": usage.jsonValue])
        }
    }

    struct Failure: JSONValueEncodable {
        var error: String
        var message: String
        var retryAfter: Int?
        var blockExpiresAt: String?

        var jsonValue: JSONValue {
            var object: [String: JSONValue] = ["success": .bool(false), "error": .string(error), "message": .string(message)]
            object.set("retry_after", retryAfter)
            object.set("block_expires_at", blockExpiresAt)
            return .object(object)
        }
    }
}
