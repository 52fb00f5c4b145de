/// One chat turn as both entry points (the HTTP `chat` POST and the WebSocket `sendMessage`) see it.
public struct ChatTurnRequest: Sendable {
    public var widget: WidgetConfig
    public var conversationId: String
    /// The user's new message, as typed (redaction happens inside the service).
    public var message: String
    /// Earlier turns supplied by a stateless client (`messages` in the chat POST); nil to use the
    /// stored conversation.
    public var clientHistory: [ChatTurn]?
    public var client: SecurityEventRecorder.Client
    /// Whether the per-IP limit across widgets applies (the public POST endpoint).
    public var perIPLimit: Bool
    public var deadline: Date

    public init(widget: WidgetConfig, conversationId: String, message: String, clientHistory: [ChatTurn]?,
                client: SecurityEventRecorder.Client, perIPLimit: Bool, deadline: Date) {
        self.widget = widget
        self.conversationId = conversationId
        self.message = message
        self.clientHistory = clientHistory
        self.client = client
        self.perIPLimit = perIPLimit
        self.deadline = deadline
    }
}

public struct ChatTurnResult: Sendable, Equatable {
    public var reply: String
    public var usage: Usage
}

/// The policy and memory of a chat turn, in the order that keeps abuse cheap: length, limits,
/// content, then storage and the provider. Every refusal is recorded as a security event.
public struct ChatService: Sendable {
    public var dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    /// Runs one turn. `onPiece` receives each piece of the reply as the provider produces it.
    public func respond(
        to request: ChatTurnRequest, onPiece: @Sendable (String) async throws -> Void = { _ in }
    ) async throws -> Result<ChatTurnResult, Refusal> {
        let store = dependencies.store
        let recorder = SecurityEventRecorder(store: store, clock: dependencies.clock)
        let widget = request.widget
        let now = dependencies.clock.now()

        let length = request.message.count
        if length > widget.limits.maxMessageLength {
            try await recorder.record(.messageTooLong, client: request.client,
                                      details: ["length": "\(length)", "max": "\(widget.limits.maxMessageLength)"])
            return .failure(Refusal(.messageTooLong, "Messages can be at most \(widget.limits.maxMessageLength) characters."))
        }

        // The filter's verdict is known before the limits are checked (it reads only the message), so
        // that a message passing both is stored in the same store call as its admission. A message
        // refused by both is refused for the limits, as when they were checked first.
        let violation = ContentFilter(blockedKeywords: widget.settings.blockedKeywords).violation(in: request.message)
        let redactor = PIIRedactor()
        let userMessage = violation == nil ? stored(.user, redactor.redact(request.message), request: request, at: now) : nil
        // The widget's bound on the conversation, and no more than the provider reads of it.
        let bound = min(max(0, widget.limits.maxConversationLength - 1), max(0, dependencies.ai.earlierTurnsRead ?? .max))
        // When the provider reads nothing the store holds (no earlier turns, or the client's own) and
        // answers at once, it answers before the admission, so that the whole turn is one store call
        // (SQLite: one commit where there were two). Its reply is then also computed for a message the
        // limits refuse: for the embedded responder, a few dictionary lookups.
        let historyIsKnown = request.clientHistory != nil || bound == 0
        var answeredEarly: String?
        if historyIsKnown, let userMessage,
           let whole = dependencies.ai.immediateReply(completion(for: request, message: userMessage, stored: [], bound: bound,
                                                                 redactor: redactor, now: now)), !whole.isEmpty {
            answeredEarly = whole
        }
        func storedReply(_ reply: String) -> StoredMessage {
            stored(.assistant, redactor.redact(reply), request: request, at: dependencies.clock.now())
        }
        let limiter = RateLimiter(store: store, configuration: dependencies.configuration)
        let admitted: RateLimiter.Admitted
        switch try await limiter.admit(widget: widget, ip: request.client.sourceIp, now: now, perIPLimit: request.perIPLimit,
                                       message: userMessage,
                                       reply: answeredEarly.map(storedReply),
                                       historyLimit: historyIsKnown ? 0 : bound) {
        case .success(let admission):
            admitted = admission
        case .failure(let denial):
            try await record(denial, recorder: recorder, client: request.client)
            return .failure(denial.refusal)
        }

        guard let userMessage else {
            let rule = violation ?? ""
            try await recorder.record(.suspiciousContent, client: request.client, details: ["rule": rule])
            let denial = RateLimiter.Denial(
                refusal: Refusal(.contentFiltered, "Your message couldn't be sent. Please remove links, markup or unusual characters."),
                eventType: .suspiciousContent, limitType: rule)
            let warned = try await limiter.warn(subject: "\(widget.widgetId):\(request.client.sourceIp)", now: now, denial: denial)
            if let until = warned.autoBlockedUntil { try await recordBlock(until: until, recorder: recorder, client: request.client) }
            return .failure(denial.refusal)
        }
        let usage = admitted.usage
        var reply = answeredEarly ?? ""
        do {
            if let answeredEarly {
                try await onPiece(answeredEarly)
            } else {
                let completion = completion(for: request, message: userMessage, stored: admitted.history, bound: bound, redactor: redactor, now: now)
                if let whole = dependencies.ai.immediateReply(completion) {
                    reply = whole
                    try await onPiece(whole)
                } else {
                    for try await piece in dependencies.ai.streamReply(completion) {
                        reply += piece
                        try await onPiece(piece)
                    }
                }
            }
        } catch let gone as ConnectionGoneError {
            throw gone
        } catch {
            return .failure(.providerFailed)
        }
        if reply.isEmpty { return .failure(.providerFailed) }
        if answeredEarly == nil {
            try await store.appendMessage(storedReply(reply))
        }
        return .success(ChatTurnResult(reply: reply, usage: usage))
    }

    /// What the provider is asked: the earlier turns it reads, then the new `message`.
    private func completion(for request: ChatTurnRequest, message: StoredMessage, stored: [StoredMessage], bound: Int,
                            redactor: PIIRedactor, now: Date) -> CompletionRequest {
        let history = conversationHistory(for: request, stored: stored, bound: bound, redactor: redactor, now: now)
        return CompletionRequest(widget: request.widget, history: history + [ChatTurn(role: .user, content: message.content)],
                                 deadline: request.deadline)
    }

    /// The earlier turns sent to the provider: the client's own (user and assistant turns only, so a
    /// page cannot inject a system prompt), or the `stored` conversation while the session is alive,
    /// bounded by `max_conversation_length` and by what the provider reads.
    private func conversationHistory(for request: ChatTurnRequest, stored: [StoredMessage], bound: Int,
                                     redactor: PIIRedactor, now: Date) -> [ChatTurn] {
        if let supplied = request.clientHistory {
            return supplied.filter { $0.role != .system }.suffix(bound).map { ChatTurn(role: $0.role, content: redactor.redact($0.content)) }
        }
        let timeout = TimeInterval(request.widget.limits.sessionTimeoutMinutes * 60)
        guard let last = stored.last, now.timeIntervalSince(last.createdAt) <= timeout else { return [] }
        return stored.map { ChatTurn(role: $0.role, content: $0.content) }
    }

    private func stored(_ role: ChatRole, _ content: String, request: ChatTurnRequest, at date: Date) -> StoredMessage {
        StoredMessage(widgetId: request.widget.widgetId, conversationId: request.conversationId, role: role, content: content,
                      domain: request.client.origin.origin?.host, sourceIp: request.client.sourceIp, createdAt: date)
    }

    private func record(_ denial: RateLimiter.Denial, recorder: SecurityEventRecorder, client: SecurityEventRecorder.Client) async throws {
        var details = ["limit_type": denial.limitType]
        if let retry = denial.refusal.retryAfter { details["retry_after"] = "\(retry)" }
        try await recorder.record(denial.eventType, client: client, details: details)
        if let until = denial.autoBlockedUntil { try await recordBlock(until: until, recorder: recorder, client: client) }
    }

    private func recordBlock(until: Date, recorder: SecurityEventRecorder, client: SecurityEventRecorder.Client) async throws {
        // The block starts because of the refusal just recorded: one refused request, not two.
        try await recorder.record(.blocked, client: client, details: ["block_expires_at": ISO8601.string(until), "reason": "auto_block"],
                                  countsAsRefusal: false)
    }
}
