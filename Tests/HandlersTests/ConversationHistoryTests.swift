import Foundation
@testable import Handlers
import Synchronization
import Testing

/// What a chat turn hands its provider of the conversation so far: the stored turns, bounded by the
/// widget's `max_conversation_length` and by how many earlier turns the provider says it reads.
@Suite("Conversation history sent to the provider")
struct ConversationHistoryTests {
    /// Records the history of every request and answers "ok"; reads `turnsRead` earlier turns (nil:
    /// every turn it is given).
    final class RecordingProvider: HistoryBounded {
        let turnsRead: Int?
        private let requests = Mutex<[[ChatTurn]]>([])

        init(turnsRead: Int?) { self.turnsRead = turnsRead }

        var earlierTurnsRead: Int { turnsRead ?? .max }

        func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
            requests.withLock { $0.append(request.history) }
            return AsyncThrowingStream { continuation in
                continuation.yield("ok")
                continuation.finish()
            }
        }

        var lastHistory: [ChatTurn]? { requests.withLock { $0.last } }
    }

    /// Sends `messages` one after another on one conversation through `provider`, a minute apart so
    /// that no limit of the demo widget refuses them.
    func converse(_ messages: [String], provider: RecordingProvider) async throws {
        let harness = try await Harness()
        var dependencies = harness.dependencies
        dependencies.ai = provider
        for message in messages {
            let request = HTTPRouteRequest(method: "POST", path: "/api/chat", headers: HeaderFields(["origin": "http://localhost:5173"]),
                                      body: Harness.chatBody(message: message))
            let response = try await ChatFunction(dependencies: dependencies).handle(request, context: harness.context)
            #expect(response.statusCode == 200)
            harness.clock.advance(60)
        }
    }

    @Test("a provider that reads every turn gets the stored conversation, oldest first, then the new message")
    func everyTurn() async throws {
        let provider = RecordingProvider(turnsRead: nil)
        try await converse(["first", "second"], provider: provider)
        #expect(provider.lastHistory == [ChatTurn(role: .user, content: "first"), ChatTurn(role: .assistant, content: "ok"),
                                         ChatTurn(role: .user, content: "second")])
    }

    @Test("a provider that reads one earlier turn gets only the last stored one before the new message")
    func fewerTurns() async throws {
        let provider = RecordingProvider(turnsRead: 1)
        try await converse(["first", "second"], provider: provider)
        #expect(provider.lastHistory == [ChatTurn(role: .assistant, content: "ok"), ChatTurn(role: .user, content: "second")])
    }

    @Test("a provider that reads no earlier turns gets the new message alone, of a stored or a client-supplied history")
    func noTurns() async throws {
        let provider = RecordingProvider(turnsRead: 0)
        try await converse(["first", "second"], provider: provider)
        #expect(provider.lastHistory == [ChatTurn(role: .user, content: "second")])

        let harness = try await Harness()
        var dependencies = harness.dependencies
        dependencies.ai = provider
        let body = #"{"widget_id":"widget_demo_localhost","conversation_id":"c-2","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}"#
        let request = HTTPRouteRequest(method: "POST", path: "/api/chat", headers: HeaderFields(["origin": "http://localhost:5173"]), body: body)
        #expect(try await ChatFunction(dependencies: dependencies).handle(request, context: harness.context).statusCode == 200)
        #expect(provider.lastHistory == [ChatTurn(role: .user, content: "c")])
    }

    @Test("a provider with an immediate reply is not streamed: its reply is the one piece, as its stream would yield it")
    func immediateReply() async throws {
        struct Immediate: ImmediateReplying {
            func immediateReply(_ request: CompletionRequest) -> String { "at once" }
            func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
                AsyncThrowingStream { $0.finish(throwing: CancellationError()) }
            }
        }
        let harness = try await Harness()
        var dependencies = harness.dependencies
        dependencies.ai = Immediate()
        let request = ChatTurnRequest(widget: DemoWidget.make(createdAt: harness.clock.now()), conversationId: "c-9",
                                      conversationToken: .random(), message: "hi",
                                      clientHistory: nil, client: SecurityEventRecorder.Client(widgetId: DemoWidget.id,
                                      origin: RequestOrigin(headers: HeaderFields(["origin": "http://localhost:5173"])), sourceIp: "198.51.100.7",
                                      userAgent: nil, requestId: "r"), perIPLimit: true, deadline: harness.clock.now().addingTimeInterval(30))
        let pieces = Mutex<[String]>([])
        let result = try await ChatService(dependencies: dependencies).respond(to: request) { piece in pieces.withLock { $0.append(piece) } }
        #expect(try result.get().reply == "at once")
        #expect(pieces.withLock { $0 } == ["at once"])
        let embedded = EmbeddedResponder()
        let completion = CompletionRequest(widget: request.widget, history: [ChatTurn(role: .user, content: "hi")], deadline: request.deadline)
        #expect(embedded.immediateReply(completion) == (try await embedded.reply(completion)))
    }

    @Test("an immediate reply of a provider that reads no earlier turns is stored redacted after its message; a refused message stores neither")
    func earlyReplyIsStoredWithItsMessage() async throws {
        struct Echo: HistoryBounded, ImmediateReplying {
            var earlierTurnsRead: Int { 0 }
            func immediateReply(_ request: CompletionRequest) -> String { "write to help@example.com about: \(request.history.last?.content ?? "")" }
            func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
                AsyncThrowingStream { $0.finish(throwing: CancellationError()) }
            }
        }
        var widget = DemoWidget.make(createdAt: Date(timeIntervalSince1970: 0))
        widget.limits.maxMessagesPerMinute = 1
        let harness = try await Harness(widget: widget)
        var dependencies = harness.dependencies
        dependencies.ai = Echo()
        for message in ["first", "second"] {
            let request = HTTPRouteRequest(method: "POST", path: "/api/chat", headers: HeaderFields(["origin": "http://localhost:5173"]),
                                      body: Harness.chatBody(message: message))
            _ = try await ChatFunction(dependencies: dependencies).handle(request, context: harness.context)
        }
        let stored = try await harness.store.messages(widgetId: DemoWidget.id, conversationId: Harness.storageKey(), limit: 10)
        #expect(stored.map(\.content) == ["first", "write to \(PIIRedactor.emailMarker) about: first"])
        #expect(stored.map(\.role) == [.user, .assistant])
    }

    @Test("a message the limits refuse never reaches the provider, whether it replies at once or streams")
    func refusedMessageIsNotAnswered() async throws {
        /// Counts every request, through either way of asking; reads no earlier turns, as the
        /// embedded responder.
        final class Counting: HistoryBounded, ImmediateReplying {
            let asked = Mutex(0)
            let immediate: Bool
            init(immediate: Bool) { self.immediate = immediate }
            var earlierTurnsRead: Int { 0 }
            func immediateReply(_ request: CompletionRequest) -> String {
                asked.withLock { $0 += 1 }
                return "reply"
            }
            func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
                asked.withLock { $0 += 1 }
                return AsyncThrowingStream { continuation in
                    continuation.yield("reply")
                    continuation.finish()
                }
            }
        }
        /// The same, without the immediate reply: asked through its stream only.
        struct Streaming: AIProvider {
            let counting: Counting
            func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> { counting.streamReply(request) }
        }
        for immediate in [true, false] {
            var widget = DemoWidget.make(createdAt: Date(timeIntervalSince1970: 0))
            widget.limits.maxMessagesPerMinute = 1
            let harness = try await Harness(widget: widget)
            var dependencies = harness.dependencies
            let provider = Counting(immediate: immediate)
            dependencies.ai = immediate ? provider : Streaming(counting: provider)
            var statuses: [Int] = []
            // The second is refused for the limits, the third for the limits and the filter both.
            for message in ["first", "second", "third <script>"] {
                let request = HTTPRouteRequest(method: "POST", path: "/api/chat", headers: HeaderFields(["origin": "http://localhost:5173"]),
                                          body: Harness.chatBody(message: message))
                statuses.append(try await ChatFunction(dependencies: dependencies).handle(request, context: harness.context).statusCode)
            }
            #expect(statuses == [200, 429, 429])
            #expect(provider.asked.withLock { $0 } == 1)
        }
    }

    @Test("the embedded responder reads no earlier turns: its answer depends on the new message only")
    func embeddedResponderReadsNoHistory() {
        let responder = EmbeddedResponder()
        #expect(responder.earlierTurnsRead == 0)
        let widget = DemoWidget.make(createdAt: Date(timeIntervalSince1970: 0))
        let question = ChatTurn(role: .user, content: "How long does shipping take?")
        let earlier = [ChatTurn(role: .user, content: "What is your pricing?"), ChatTurn(role: .assistant, content: "Plans start at...")]
        let alone = responder.answer(CompletionRequest(widget: widget, history: [question], deadline: Date(timeIntervalSince1970: 0)))
        let after = responder.answer(CompletionRequest(widget: widget, history: earlier + [question], deadline: Date(timeIntervalSince1970: 0)))
        #expect(alone == after)
    }
}
