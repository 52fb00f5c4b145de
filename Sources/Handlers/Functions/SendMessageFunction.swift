import Synchronization

/// `sendMessage`: one chat turn over WebSocket. Replies and refusals go to the client as frames
/// through the `@connections` API — the same path in AWS and on the local stage.
public struct SendMessageFunction: LambdaFunction {
    public let dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    struct Body: JSONValueDecodable {
        var action: String?
        var message: String
        var conversationId: String?
        var conversationToken: String?

        init(json: JSONValue) throws(JSONShapeError) {
            let fields = try JSONFields(json)
            action = try fields.decodeIfPresent("action")
            message = try fields.decode("message")
            conversationId = try fields.decodeIfPresent("conversation_id")
            conversationToken = try fields.decodeIfPresent("conversation_token")
        }
    }

    public func handle(_ event: WebSocketEvent, context: InvocationContext) async throws -> WebSocketResponse {
        let connectionId = event.requestContext.connectionId
        guard let endpoint = dependencies.configuration.managementEndpoint ?? event.managementEndpoint else {
            throw InvocationError.malformedEvent("the event has no requestContext.domainName/stage to reply through")
        }
        let poster = FramePoster(poster: dependencies.poster, connectionId: connectionId, endpoint: endpoint)

        guard let connection = try await dependencies.store.connection(id: connectionId) else {
            return try await poster.refuse(.invalidRequest("This connection is not registered. Please reconnect."))
        }
        let body: Body
        do {
            let bytes = try event.bodyBytes(limit: dependencies.configuration.maxBodyBytes)
            body = try Body(jsonBytes: bytes)
        } catch BodyError.tooLarge {
            return try await poster.refuse(Refusal(.payloadTooLarge, "The message is too large."))
        } catch {
            return try await poster.refuse(.invalidRequest(
                "Send JSON like {\"action\":\"sendMessage\",\"message\":\"...\"}: \(DecodingErrorSummary(error))."))
        }
        let conversationId = body.conversationId ?? connection.sessionId
        guard Identifiers.isValidConversationId(conversationId) else {
            return try await poster.refuse(.invalidRequest("conversation_id must be 1-128 letters, digits or _-.:"))
        }
        // A frame without a token continues the conversation this connection holds; one with a token
        // continues the conversation it proves (one the page held before it reconnected).
        let token: ConversationToken
        switch ConversationToken.sent(body.conversationToken) {
        case .failure(let refusal): return try await poster.refuse(refusal)
        case .success(let sent): token = sent ?? .boundTo(connectionId: connectionId, key: dependencies.configuration.conversationKey)
        }
        guard !body.message.trimmed().isEmpty else {
            return try await poster.refuse(.invalidRequest("message must not be empty."))
        }
        guard let widget = try await dependencies.store.widget(id: connection.widgetId), widget.isActive else {
            return try await poster.refuse(Refusal(.widgetNotFoundOrInactive, "This chat widget is not available."))
        }

        let origin = RequestOrigin(headers: HTTPHeaders(connection.origin.map { ["origin": $0] }))
        var client = SecurityEventRecorder.Client(
            widgetId: widget.widgetId, origin: origin,
            sourceIp: event.requestContext.identity?.sourceIp ?? connection.sourceIp,
            userAgent: event.requestContext.identity?.userAgent ?? connection.userAgent, requestId: context.requestId)
        // `$connect` admitted the connection from this origin, and the widget was just read.
        client.widgetFound = true
        client.originAllowed = true
        let request = ChatTurnRequest(widget: widget, conversationId: conversationId, conversationToken: token, message: body.message,
                                      clientHistory: nil, client: client, perIPLimit: false, deadline: context.deadline)
        let stream = StreamRelay(poster: poster, conversationId: conversationId, conversationToken: token)
        do {
            switch try await ChatService(dependencies: dependencies).respond(to: request, onPiece: stream.relay) {
            case .failure(let refusal):
                return try await poster.refuse(refusal)
            case .success(let result):
                try await stream.finish(reply: result.reply)
                return WebSocketResponse(statusCode: 200)
            }
        } catch is ConnectionGoneError {
            _ = try await dependencies.store.removeConnection(id: connectionId)
            return WebSocketResponse(statusCode: 410)
        }
    }
}

/// Posts frames to one connection.
struct FramePoster: Sendable {
    let poster: any ConnectionPoster
    let connectionId: String
    let endpoint: String

    func send(_ frame: ServerFrame) async throws {
        try await poster.post(frame.json, to: connectionId, endpoint: endpoint)
    }

    /// Tells the client why its message was refused and returns the matching status.
    func refuse(_ refusal: Refusal) async throws -> WebSocketResponse {
        do {
            try await send(.error(refusal))
        } catch is ConnectionGoneError {
            return WebSocketResponse(statusCode: 410)
        }
        return WebSocketResponse(statusCode: refusal.code.status, body: String(decoding: ServerFrame.error(refusal).json, as: UTF8.self))
    }
}

/// Turns the provider's pieces into frames: a reply that arrives in one piece is one `message`
/// frame; a streamed reply is `delta` frames as they arrive and one `done` frame with the whole text.
final class StreamRelay: Sendable {
    private let poster: FramePoster
    private let conversationId: String
    private let conversationToken: ConversationToken
    private let pending = Mutex<PendingPiece>(PendingPiece())

    private struct PendingPiece {
        var held: String?
        var streaming = false
    }

    init(poster: FramePoster, conversationId: String, conversationToken: ConversationToken) {
        self.poster = poster
        self.conversationId = conversationId
        self.conversationToken = conversationToken
    }

    @Sendable func relay(_ piece: String) async throws {
        // The first piece is held back until a second one shows that the reply is streaming.
        let toSend: [String] = pending.withLock { state in
            if state.streaming { return [piece] }
            if let held = state.held {
                state.streaming = true
                state.held = nil
                return [held, piece]
            }
            state.held = piece
            return []
        }
        for text in toSend { try await poster.send(.delta(content: text, conversationId: conversationId)) }
    }

    func finish(reply: String) async throws {
        let streaming = pending.withLock { $0.streaming }
        try await poster.send(streaming ? .done(content: reply, conversationId: conversationId, conversationToken: conversationToken)
                                        : .message(content: reply, conversationId: conversationId, conversationToken: conversationToken))
    }
}
