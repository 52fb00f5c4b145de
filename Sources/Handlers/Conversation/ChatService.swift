#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One chat turn as both entry points (the HTTP `chat` POST and the WebSocket `sendMessage`) see it.
public struct ChatTurnRequest: Sendable {
    public var widget: WidgetConfig
    /// The conversation as the client names it.
    public var conversationId: String
    /// The client's proof that the conversation is its own: earlier turns are read and new ones
    /// stored under the key it gives (`ConversationToken.storageKey`).
    public var conversationToken: ConversationToken
    /// The user's new message, as typed (redaction happens inside the service).
    public var message: String
    /// Earlier turns supplied by a stateless client (`messages` in the chat POST); nil to use the
    /// stored conversation.
    public var clientHistory: [ChatTurn]?
    public var client: SecurityEventRecorder.Client
    /// Whether the per-IP limit across widgets applies (the public POST endpoint).
    public var perIPLimit: Bool
    public var deadline: Date

    public init(widget: WidgetConfig, conversationId: String, conversationToken: ConversationToken, message: String,
                clientHistory: [ChatTurn]?, client: SecurityEventRecorder.Client, perIPLimit: Bool, deadline: Date) {
        self.widget = widget
        self.conversationId = conversationId
        self.conversationToken = conversationToken
        self.message = message
        self.clientHistory = clientHistory
        self.client = client
        self.perIPLimit = perIPLimit
        self.deadline = deadline
    }

    /// Where the conversation's messages are stored: under the conversation id and the token together.
    public var storageKey: String { conversationToken.storageKey(widgetId: widget.widgetId, conversationId: conversationId) }
}

public struct ChatTurnResult: Sendable, Equatable {
    public var reply: String
    public var usage: Usage
}

/// The policy and memory of a chat turn, in the order that keeps abuse cheap: length, limits,
/// content, then storage and the provider. Every refusal is recorded as a security event.
///
/// A client that keeps its own history (`messages` in the chat POST) is held to the same rules for
/// every turn it supplies as for its new message — length, content filter, PII redaction — and to
/// `historyScalarBudget` for all of them together: nothing a client sends reaches the provider or
/// the store unchecked.
public struct ChatService: Sendable {
    public var dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    /// Runs one turn. `onPiece` receives each piece of the reply as the provider produces it. Store
    /// calls give up retrying at the request's deadline (`StoreDeadline`).
    public func respond(
        to request: ChatTurnRequest, onPiece: @Sendable (String) async throws -> Void = { _ in }
    ) async throws -> Result<ChatTurnResult, Refusal> {
        try await StoreDeadline.$current.withValue(request.deadline) {
            try await turn(request, onPiece: onPiece)
        }
    }

    private func turn(_ request: ChatTurnRequest, onPiece: @Sendable (String) async throws -> Void) async throws -> Result<ChatTurnResult, Refusal> {
        let store = dependencies.store
        let recorder = SecurityEventRecorder(store: store, clock: dependencies.clock, configuration: dependencies.configuration)
        let widget = request.widget
        let now = dependencies.clock.now()
        InvocationTelemetry.serving(widgetId: widget.widgetId)
        InvocationTelemetry.count(.messages)

        if let (refusal, details) = Self.lengthViolation(in: request) {
            // Refused before the admission reads the block: a blocked client is answered as blocked,
            // as for every other refusal, so that its over-long messages count no further warning.
            if let blocked = try await WidgetGate(dependencies: dependencies).refusalIfBlocked(
                request.client, details: ["limit_type": "blocked", "instead_of": SecurityEventType.messageTooLong.rawValue]) {
                return .failure(blocked)
            }
            try await recorder.refuse(.messageTooLong, client: request.client, details: details)
            return .failure(refusal)
        }

        // The filter's verdict is known before the limits are checked (it reads only the text), so
        // that a message passing both is stored in the same store call as its admission. A message
        // refused by both is refused for the limits, as when they were checked first.
        let filter = ContentFilter(blockedKeywords: widget.settings.blockedKeywords)
        let violation = filter.violation(in: request.message)
            ?? request.clientHistory?.lazy.compactMap({ filter.violation(in: $0.content) }).first
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
        // Reported only once the reply is used: a reply computed for a refused message is no AI call.
        var earlyReplyTook: Duration?
        if historyIsKnown, let userMessage {
            let asked = ContinuousClock.now
            if let whole = dependencies.ai.immediateReply(completion(for: request, message: userMessage, stored: [], bound: bound,
                                                                     redactor: redactor, now: now)), !whole.isEmpty {
                answeredEarly = whole
                earlyReplyTook = asked.duration(to: .now)
            }
        }
        func storedReply(_ reply: String) -> StoredMessage {
            stored(.assistant, redactor.redact(reply), request: request, at: dependencies.clock.now())
        }
        let limiter = RateLimiter(store: store, configuration: dependencies.configuration)
        let admitted: RateLimiter.Admitted
        switch try await limiter.admit(widget: widget, client: request.client, now: now, perIPLimit: request.perIPLimit,
                                       message: userMessage,
                                       reply: answeredEarly.map(storedReply),
                                       historyLimit: historyIsKnown ? 0 : bound) {
        case .success(let admission):
            admitted = admission
        case .failure(let denial):
            var details = ["limit_type": denial.limitType]
            if let retry = denial.refusal.retryAfter { details["retry_after"] = "\(retry)" }
            try await recorder.refuse(denial.eventType, client: request.client, details: details)
            return .failure(denial.refusal)
        }

        guard let userMessage else {
            try await recorder.refuse(.suspiciousContent, client: request.client, details: ["rule": violation ?? ""])
            return .failure(Refusal(.contentFiltered, "Your message couldn't be sent. Please remove links, markup or unusual characters."))
        }
        let usage = admitted.usage
        var reply = answeredEarly ?? ""
        if let earlyReplyTook { InvocationTelemetry.aiCall(took: earlyReplyTook) }
        let asked = ContinuousClock.now
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
            if answeredEarly == nil { InvocationTelemetry.aiCall(took: asked.duration(to: .now)) }
            InvocationTelemetry.count(.aiErrors)
            return .failure(.providerFailed)
        }
        if answeredEarly == nil { InvocationTelemetry.aiCall(took: asked.duration(to: .now)) }
        if reply.isEmpty {
            InvocationTelemetry.count(.aiErrors)
            return .failure(.providerFailed)
        }
        if answeredEarly == nil {
            try await store.appendMessage(storedReply(reply))
        }
        InvocationTelemetry.count(.replies)
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
        StoredMessage(widgetId: request.widget.widgetId, conversationId: request.storageKey, role: role, content: content,
                      domain: request.client.origin.origin?.host, sourceIp: request.client.sourceIp, createdAt: date)
    }

    /// Client texts longer than this many Unicode scalars in all (`messages`' earlier turns
    /// together) are refused: eight new messages' worth, as a whole-conversation bound.
    static func historyScalarBudget(for widget: WidgetConfig) -> Int { widget.limits.maxMessageLength * 8 }

    /// Why the new message or a supplied earlier turn is too long, with the event's details; nil when
    /// none is. `max_message_length` counts Unicode scalars, so combining marks stacked on one
    /// character count each (`a` and 60,000 accents are 60,001, not 1), which also bounds the
    /// UTF-8 size at four bytes a scalar.
    static func lengthViolation(in request: ChatTurnRequest) -> (Refusal, [String: String])? {
        let limit = request.widget.limits.maxMessageLength
        func details(_ text: String, _ part: String) -> [String: String] {
            ["part": part, "scalars": "\(text.unicodeScalars.count)", "bytes": "\(text.utf8.count)", "max": "\(limit)"]
        }
        if request.message.unicodeScalars.count > limit {
            return (Refusal(.messageTooLong, "Messages can be at most \(limit) characters."), details(request.message, "message"))
        }
        var total = 0
        for (index, turn) in (request.clientHistory ?? []).enumerated() {
            let scalars = turn.content.unicodeScalars.count
            if scalars > limit {
                return (Refusal(.messageTooLong, "Each earlier message can be at most \(limit) characters."), details(turn.content, "messages[\(index)]"))
            }
            total += scalars
        }
        let budget = historyScalarBudget(for: request.widget)
        if total > budget {
            return (Refusal(.payloadTooLarge, "The conversation sent with the message is too long; send at most \(budget) characters of it."),
                    ["part": "messages", "scalars": "\(total)", "max": "\(budget)"])
        }
        return nil
    }
}
