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

/// The policy and memory of a chat turn, in the order that keeps abuse cheap (README, "Security
/// model"): the length, the content filter and PII redaction, the limits with the message's
/// storage, then the provider and the reply's storage. Every refusal is recorded as a security event.
///
/// A client that keeps its own history (`messages` in the chat POST) is held to the same rules for
/// every turn it supplies as for its new message — length, content filter, PII redaction — and to
/// `historyScalarBudget` for all of them together: nothing a client sends reaches the provider or
/// the store unchecked. A message that any step refuses never reaches the provider.
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
        InvocationTelemetry.serving(widgetId: request.widget.widgetId)
        InvocationTelemetry.count(.messages)
        let recorder = SecurityEventRecorder(store: dependencies.store, clock: dependencies.clock, configuration: dependencies.configuration)
        if let refusal = try await refuseIfTooLong(request, recorder: recorder) { return .failure(refusal) }
        let now = dependencies.clock.now()
        let screened = screen(request, now: now)
        let admitted: RateLimiter.Admitted
        switch try await admit(request, screened, now: now, recorder: recorder) {
        case .success(let admission): admitted = admission
        case .failure(let refusal): return .failure(refusal)
        }
        guard let message = screened.message, let reply = try await answer(request, message: message, admitted: admitted, onPiece: onPiece) else {
            return .failure(.providerFailed)
        }
        if !reply.isStored { try await persist(reply.text, request: request) }
        InvocationTelemetry.count(.replies)
        return .success(ChatTurnResult(reply: reply.text, usage: admitted.usage))
    }

    // MARK: The steps

    /// Refuses a message (or a supplied earlier turn) that is too long, before anything is read or
    /// written but the block: a blocked client is answered as blocked, as for every other refusal,
    /// so that its over-long messages count no further warning.
    private func refuseIfTooLong(_ request: ChatTurnRequest, recorder: SecurityEventRecorder) async throws -> Refusal? {
        guard let (refusal, details) = Self.lengthViolation(in: request) else { return nil }
        if let blocked = try await WidgetGate(dependencies: dependencies).refusalIfBlocked(
            request.client, details: ["limit_type": "blocked", "instead_of": SecurityEventType.messageTooLong.rawValue]) {
            return blocked
        }
        try await recorder.refuse(.messageTooLong, client: request.client, details: details)
        return refusal
    }

    /// The content filter's verdict on the message and every supplied turn, and the message to store,
    /// redacted. It reads only the text; its refusal waits for the limits (`admit`).
    private struct Screened {
        /// The rule the text broke, if any.
        var violation: String?
        /// The redacted user message; nil when the filter refuses it.
        var message: StoredMessage?
    }

    private func screen(_ request: ChatTurnRequest, now: Date) -> Screened {
        let filter = ContentFilter(blockedKeywords: request.widget.settings.blockedKeywords)
        let violation = filter.violation(in: request.message)
            ?? request.clientHistory?.lazy.compactMap({ filter.violation(in: $0.content) }).first
        let message = violation == nil ? stored(.user, PIIRedactor().redact(request.message), request: request, at: now) : nil
        return Screened(violation: violation, message: message)
    }

    /// The limits, and the message's storage when they and the filter admit it. A message the filter
    /// refuses still counts against the limits, and one refused by both is refused for the limits.
    /// A provider that replies at once is asked by the store once the message is admitted
    /// (`ImmediateAnswer`), so that the reply is kept in the same write.
    private func admit(_ request: ChatTurnRequest, _ screened: Screened, now: Date,
                       recorder: SecurityEventRecorder) async throws -> Result<RateLimiter.Admitted, Refusal> {
        let bound = historyBound(for: request.widget)
        let limiter = RateLimiter(store: dependencies.store, configuration: dependencies.configuration)
        switch try await limiter.admit(widget: request.widget, client: request.client, now: now, perIPLimit: request.perIPLimit,
                                       message: screened.message,
                                       answer: screened.message.flatMap { immediateAnswer(request, message: $0, bound: bound, now: now) },
                                       historyLimit: request.clientHistory == nil ? bound : 0) {
        case .success(let admitted):
            if let violation = screened.violation {
                try await recorder.refuse(.suspiciousContent, client: request.client, details: ["rule": violation])
                return .failure(Refusal(.contentFiltered, "Your message couldn't be sent. Please remove links, markup or unusual characters."))
            }
            return .success(admitted)
        case .failure(let denial):
            var details = ["limit_type": denial.limitType]
            if let retry = denial.refusal.retryAfter { details["retry_after"] = "\(retry)" }
            try await recorder.refuse(denial.eventType, client: request.client, details: details)
            return .failure(denial.refusal)
        }
    }

    /// The provider's reply, each piece handed to `onPiece` as it comes; nil when the provider fails
    /// or replies nothing. `isStored` when the store kept it with the admission.
    private func answer(_ request: ChatTurnRequest, message: StoredMessage, admitted: RateLimiter.Admitted,
                        onPiece: @Sendable (String) async throws -> Void) async throws -> (text: String, isStored: Bool)? {
        if let immediate = admitted.reply {
            guard !immediate.isEmpty else {
                InvocationTelemetry.count(.aiErrors)
                return nil
            }
            do {
                try await onPiece(immediate)
            } catch let gone as ConnectionGoneError {
                throw gone
            } catch {
                InvocationTelemetry.count(.aiErrors)
                return nil
            }
            return (immediate, true)
        }
        let completion = completion(for: request, message: message, stored: admitted.history, bound: historyBound(for: request.widget),
                                    now: message.createdAt)
        var reply = ""
        let asked = ContinuousClock.now
        do {
            for try await piece in dependencies.ai.streamReply(completion) {
                reply += piece
                try await onPiece(piece)
            }
        } catch let gone as ConnectionGoneError {
            throw gone
        } catch {
            InvocationTelemetry.aiCall(took: asked.duration(to: .now))
            InvocationTelemetry.count(.aiErrors)
            return nil
        }
        InvocationTelemetry.aiCall(took: asked.duration(to: .now))
        if reply.isEmpty {
            InvocationTelemetry.count(.aiErrors)
            return nil
        }
        return (reply, false)
    }

    /// Stores the reply, redacted, after the message it answers.
    private func persist(_ reply: String, request: ChatTurnRequest) async throws {
        try await dependencies.store.appendMessage(storedReply(reply, request: request))
    }

    // MARK: Helpers

    /// How many stored turns the provider is given: the widget's bound on the conversation, and no
    /// more than the provider reads (`HistoryBounded`).
    private func historyBound(for widget: WidgetConfig) -> Int {
        let conversation = max(0, widget.limits.maxConversationLength - 1)
        guard let bounded = dependencies.ai as? any HistoryBounded else { return conversation }
        return min(conversation, max(0, bounded.earlierTurnsRead))
    }

    /// The store's part of asking a provider that replies at once (`ImmediateReplying`): the reply
    /// to `message` given the history the admission read, and the assistant message it stores.
    private func immediateAnswer(_ request: ChatTurnRequest, message: StoredMessage, bound: Int, now: Date) -> ImmediateAnswer? {
        guard let provider = dependencies.ai as? any ImmediateReplying else { return nil }
        // The store may run the reply on another task (a group commit's leader): the time is
        // reported to this invocation's telemetry.
        let telemetry = InvocationTelemetry.current
        return ImmediateAnswer(
            reply: { [self] history in
                let completion = completion(for: request, message: message, stored: history, bound: bound, now: now)
                let asked = ContinuousClock.now
                let reply = provider.immediateReply(completion)
                InvocationTelemetry.$current.withValue(telemetry) { InvocationTelemetry.aiCall(took: asked.duration(to: .now)) }
                return reply
            },
            stored: { [self] reply in storedReply(reply, request: request) })
    }

    private func storedReply(_ reply: String, request: ChatTurnRequest) -> StoredMessage {
        stored(.assistant, PIIRedactor().redact(reply), request: request, at: dependencies.clock.now())
    }

    /// What the provider is asked: the earlier turns it reads, then the new `message`.
    private func completion(for request: ChatTurnRequest, message: StoredMessage, stored: [StoredMessage], bound: Int,
                            now: Date) -> CompletionRequest {
        let history = conversationHistory(for: request, stored: stored, bound: bound, now: now)
        return CompletionRequest(widget: request.widget, history: history + [ChatTurn(role: .user, content: message.content)],
                                 deadline: request.deadline)
    }

    /// The earlier turns sent to the provider: the client's own (user and assistant turns only, so a
    /// page cannot inject a system prompt), or the `stored` conversation while the session is alive,
    /// bounded by `max_conversation_length` and by what the provider reads.
    private func conversationHistory(for request: ChatTurnRequest, stored: [StoredMessage], bound: Int, now: Date) -> [ChatTurn] {
        if let supplied = request.clientHistory {
            let redactor = PIIRedactor()
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
