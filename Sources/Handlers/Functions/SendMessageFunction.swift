import Synchronization

/// `sendMessage`: one chat turn over WebSocket. Replies and refusals go to the client as frames
/// through the `@connections` API — the same path in AWS and on the local stage.
public struct SendMessageFunction: WebSocketRouteFunction {
    public let dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
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

        let origin = RequestOrigin(headers: HeaderFields(connection.origin.map { ["origin": $0] }))
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
        let service = ChatService(dependencies: dependencies)
        do {
            switch try await stream.relaying({ onPiece in try await service.respond(to: request, onPiece: onPiece) }) {
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

/// A `sendMessage` frame's body, as docs/protocol.md writes it.
extension SendMessageFunction {
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
/// frame; a streamed reply is `delta` frames and one `done` frame with the whole text.
///
/// Deltas are coalesced, since every `@connections` POST is a billed WebSocket message and a round
/// trip: pieces that arrive while a POST is in flight, or soon after one, wait and go out together.
/// The first delta goes out as soon as the reply shows that it streams; after it, one goes out when
/// `Cadence.interval` has passed and `Cadence.minimumBytes` wait, or when `Cadence.longestWait` has
/// passed whatever waits; the rest goes out when the reply ends, before `done`. So a reply costs
/// about one POST per `minimumBytes` of text however finely the provider splits it, and a slow
/// stream still shows progress every `longestWait`. The deltas of a reply concatenate to its
/// `done` text, in order. What waits is never more than the reply itself, which the turn holds anyway.
final class StreamRelay: Sendable {
    /// When deltas go out.
    struct Cadence: Sendable {
        var interval: Duration = .milliseconds(150)
        var minimumBytes = 200
        var longestWait: Duration = .seconds(1)
    }

    private let poster: FramePoster
    private let conversationId: String
    private let conversationToken: ConversationToken
    private let cadence: Cadence
    private let state = Mutex<State>(State())
    /// Wakes the sender: a piece arrived, a pause ended, or (finished) the turn ended.
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    private struct State {
        var pending = ""
        var pieces = 0
        /// Why a delta could not be sent; the turn's next piece fails with it.
        var failure: (any Error)?
        var streaming: Bool { pieces > 1 }
    }

    init(poster: FramePoster, conversationId: String, conversationToken: ConversationToken, cadence: Cadence = Cadence()) {
        self.poster = poster
        self.conversationId = conversationId
        self.conversationToken = conversationToken
        self.cadence = cadence
        (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs `turn`, handing it the callback for the reply's pieces, and sends the deltas while it
    /// runs; returns once the turn has ended and every delta has gone out. Runs once per relay.
    func relaying<Outcome: Sendable>(
        _ turn: @escaping @Sendable (_ onPiece: @escaping @Sendable (String) async throws -> Void) async throws -> Outcome
    ) async throws -> Outcome {
        try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                defer { self.wake.finish() }
                return try await turn(self.relay)
            }
            var lastSent: ContinuousClock.Instant?
            var pauseEnds: ContinuousClock.Instant?
            for await _ in wakeUps {
                let now = ContinuousClock.now
                if let end = pauseEnds, end <= now { pauseEnds = nil }
                // When what waits may go out: at once for the first delta, then after the interval
                // once enough waits, and after the longest wait whatever waits.
                let sendableAt: (Int) -> ContinuousClock.Instant = { waiting in
                    guard let lastSent else { return now }
                    return lastSent.advanced(by: waiting >= self.cadence.minimumBytes ? self.cadence.interval : self.cadence.longestWait)
                }
                let (text, waiting): (String?, Int) = state.withLock { state in
                    guard state.failure == nil, state.streaming, !state.pending.isEmpty else { return (nil, 0) }
                    let waiting = state.pending.utf8.count
                    guard sendableAt(waiting) <= now else { return (nil, waiting) }
                    defer { state.pending = "" }
                    return (state.pending, waiting)
                }
                if let text {
                    await sendDelta(text)
                    lastSent = .now
                } else if waiting > 0, pauseEnds == nil || sendableAt(waiting) < pauseEnds ?? now {
                    // Pieces wait: wake up when they may go out, to send them even if no more come.
                    let end = sendableAt(waiting)
                    pauseEnds = end
                    group.addTask {
                        try? await Task.sleep(until: end, clock: .continuous)
                        self.wake.yield()
                        return nil
                    }
                }
            }
            // The turn has ended (its outcome or error is next): what still waits goes out now,
            // without waiting for the interval. A delta that failed while the turn ran failed its
            // next piece, and the turn has answered for it.
            let rest: String = state.withLock { state in
                defer { state.pending = "" }
                return state.streaming && state.failure == nil ? state.pending : ""
            }
            if !rest.isEmpty { try await poster.send(.delta(content: rest, conversationId: conversationId)) }
            while let finished = try await group.next() {
                guard let outcome = finished else { continue }
                group.cancelAll()
                return outcome
            }
            throw CancellationError()
        }
    }

    private func sendDelta(_ text: String) async {
        do {
            try await poster.send(.delta(content: text, conversationId: conversationId))
        } catch {
            state.withLock { $0.failure = error }
        }
    }

    /// Takes one piece of the reply; fails once a delta could not be sent, so that the turn stops.
    @Sendable func relay(_ piece: String) async throws {
        let failure: (any Error)? = state.withLock { state in
            if state.failure == nil {
                state.pending += piece
                state.pieces += 1
            }
            return state.failure
        }
        if let failure { throw failure }
        wake.yield()
    }

    func finish(reply: String) async throws {
        let streaming = state.withLock { $0.streaming }
        try await poster.send(streaming ? .done(content: reply, conversationId: conversationId, conversationToken: conversationToken)
                                        : .message(content: reply, conversationId: conversationId, conversationToken: conversationToken))
    }
}
