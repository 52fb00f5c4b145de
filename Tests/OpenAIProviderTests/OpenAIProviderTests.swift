import Foundation
import Handlers
@testable import OpenAIProvider
import Testing

/// The client against a real HTTP server that misbehaves on purpose: every failure ends in a thrown
/// `OpenAIProviderError`, never a crash or a hang, and never a partial reply passed off as whole.
@Suite("OpenAI-compatible provider over HTTP")
struct OpenAIProviderTests {
    static let quickTimeouts = OpenAIProvider.Timeouts(
        connect: .seconds(1), read: .milliseconds(500), reserve: .zero, minimumRetryTime: .milliseconds(500),
        defaultRetryDelay: .milliseconds(100))

    /// For tests about content rather than timing: generous enough that a loaded CI machine never
    /// turns a slow test server into a timeout.
    static let patientTimeouts = OpenAIProvider.Timeouts(
        connect: .seconds(10), read: .seconds(10), reserve: .zero, minimumRetryTime: .milliseconds(500),
        defaultRetryDelay: .milliseconds(100))

    static let widget = DemoWidget.make(createdAt: Date(timeIntervalSince1970: 0))

    func provider(_ server: OpenAITestServer, _ scenario: String, key: String = OpenAITestServer.apiKey,
                  timeouts: OpenAIProvider.Timeouts = patientTimeouts) -> OpenAIProvider {
        OpenAIProvider(settings: .init(baseURL: server.baseURL(scenario), apiKey: key, model: "test-model", timeouts: timeouts))
    }

    func request(_ message: String = "What are your opening hours?", history: [ChatTurn] = [],
                 deadline: TimeInterval = 10) -> CompletionRequest {
        CompletionRequest(widget: Self.widget, history: history + [ChatTurn(role: .user, content: message)],
                          deadline: Date().addingTimeInterval(deadline))
    }

    /// The pieces the provider yielded and the error that ended the stream, if any.
    func outcome(_ provider: OpenAIProvider, _ request: CompletionRequest) async -> (pieces: [String], error: OpenAIProviderError?) {
        var pieces: [String] = []
        do {
            for try await piece in provider.streamReply(request) { pieces.append(piece) }
            return (pieces, nil)
        } catch let error as OpenAIProviderError {
            return (pieces, error)
        } catch {
            Issue.record("unexpected error type: \(error)")
            return (pieces, nil)
        }
    }

    @Test("a plain JSON completion is the whole reply in one piece")
    func plainReply() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "plain"), request("Hi there"))
            #expect(result.error == nil)
            #expect(result.pieces == ["You said: Hi there"])
        }
    }

    @Test("a streamed reply arrives as several pieces that join to the whole reply")
    func streamedReply() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "stream"), request("Do you ship to Norway?"))
            #expect(result.error == nil)
            #expect(result.pieces == ["You", " said:", " Do", " you", " ship", " to", " Norway?"])
        }
    }

    @Test("comments, CRLF, ids, usage chunks and one-byte network chunks leave the reply intact")
    func quirkyStream() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "stream-quirks"), request("Ça coûte combien ? 👋"))
            #expect(result.error == nil)
            #expect(result.pieces.joined() == "You said: Ça coûte combien ? 👋")
        }
    }

    @Test("the request carries the model, 0.7, 500 tokens, stream, the bearer key, the widget's prompt and the history")
    func requestContents() async throws {
        try await OpenAITestServer.with { server async throws in
            let history = [ChatTurn(role: .user, content: "Hello"), ChatTurn(role: .assistant, content: "Hi! How can I help?")]
            _ = await outcome(provider(server, "stream"), request("How long does shipping take?", history: history))
            let received = try #require(try await server.received().first)
            #expect(received.path == "/stream/v1/chat/completions")
            #expect(received.authorization == "Bearer test-key")
            let body = try #require(received.body)
            #expect(body.model == "test-model")
            #expect(body.temperature == 0.7)
            #expect(body.maxTokens == 500)
            #expect(body.stream == true)
            let messages = try #require(body.messages)
            #expect(messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(messages[0].content == SystemPrompt.text(for: Self.widget.settings))
            #expect(messages.dropFirst().map(\.content) == ["Hello", "Hi! How can I help?", "How long does shipping take?"])
        }
    }

    @Test("no response head within the connect timeout is a connect timeout")
    func connectTimeout() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "slow", timeouts: Self.quickTimeouts), request())
            #expect(result.error == .timedOut(.connect))
            #expect(result.pieces.isEmpty)
        }
    }

    @Test("a stream that goes silent ends with a read timeout after the pieces it sent")
    func readTimeout() async throws {
        try await OpenAITestServer.with { server async throws in
            // A read timeout shorter than the connect timeout: the head and the first piece get time
            // to arrive on a loaded machine, and the silence must still end at the read timeout.
            var timeouts = Self.patientTimeouts
            timeouts.read = .seconds(2)
            let result = await outcome(provider(server, "stall", timeouts: timeouts), request())
            #expect(result.error == .timedOut(.read))
            #expect(result.pieces == ["Thinking"])
        }
    }

    @Test("the invocation deadline, less the reserve, cuts every timeout short")
    func deadlineTimeout() async throws {
        try await OpenAITestServer.with { server async throws in
            var timeouts = Self.quickTimeouts
            timeouts.connect = .seconds(30)
            timeouts.reserve = .milliseconds(500)
            let result = await outcome(provider(server, "slow", timeouts: timeouts), request(deadline: 1.5))
            #expect(result.error == .timedOut(.deadline))
        }
    }

    @Test("a 500 is retried once and the second answer is the reply")
    func retryAfter500() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "fail-once-500"), request("Hello again"))
            #expect(result.error == nil)
            #expect(result.pieces.joined() == "You said: Hello again")
            #expect(try await server.received().count == 2)
        }
    }

    @Test("a provider that keeps answering 503 is asked exactly twice, then its status is the error")
    func persistent503() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "always-503"), request())
            #expect(result.error == .status(503, message: "Service unavailable", retryAfter: nil))
            #expect(try await server.received().count == 2)
        }
    }

    @Test("a 429 is retried no sooner than its Retry-After")
    func retryAfter429() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "retry-after-1"), request("Hello"))
            #expect(result.error == nil)
            #expect(result.pieces.joined() == "You said: Hello")
            let received = try await server.received()
            try #require(received.count == 2)
            #expect(received[1].time - received[0].time >= 1.0)
        }
    }

    @Test("a 429 whose Retry-After ends past the deadline is not retried")
    func retryAfterPastDeadline() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "retry-after-3600"), request())
            #expect(result.error == .status(429, message: "Rate limit reached", retryAfter: 3600))
            #expect(try await server.received().count == 1)
        }
    }

    @Test("a wrong key's 401 is not retried")
    func unauthorized() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "stream", key: "wrong-key"), request())
            #expect(result.error == .status(401, message: "Invalid API Key", retryAfter: nil))
            #expect(try await server.received().count == 1)
        }
    }

    @Test("an event whose data is not JSON fails the reply as malformed")
    func malformedChunk() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "malformed"), request())
            guard case .malformedResponse = result.error else {
                Issue.record("expected malformedResponse, got \(String(describing: result.error))")
                return
            }
            #expect(result.pieces == ["Hello"])
        }
    }

    @Test("a connection closed mid-stream is a cut-off stream")
    func connectionClosedMidStream() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "cutoff"), request())
            #expect(result.error == .streamCutOff)
            #expect(result.pieces == ["Hello", " there"])
        }
    }

    @Test("a body that ends without [DONE] or a finish_reason is a cut-off stream")
    func streamWithoutEnd() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "no-done"), request())
            #expect(result.error == .streamCutOff)
        }
    }

    @Test("an error object inside the stream fails the reply with the provider's message")
    func errorEvent() async throws {
        try await OpenAITestServer.with { server async throws in
            let result = await outcome(provider(server, "error-event"), request())
            #expect(result.error == .providerReported("The model is overloaded"))
        }
    }

    @Test("a provider refusing connections fails at once, saying it refused, not at the connect timeout")
    func connectionRefused() async throws {
        let port = try await OpenAITestServer.with { $0.port }
        let unreachable = OpenAIProvider(settings: .init(baseURL: "http://127.0.0.1:\(port)/stream/v1", apiKey: "k", timeouts: Self.patientTimeouts))
        let started = ContinuousClock.now
        let result = await outcome(unreachable, request(deadline: 30))
        #expect(result.error == .cannotConnect(.refused(host: "127.0.0.1", port: port)))
        // Well inside the 10 s connect timeout it would otherwise wait out (a bound for hangs, not a timing).
        #expect(ContinuousClock.now - started < .seconds(8))
        #expect(result.error?.description.contains("connection refused by 127.0.0.1:\(port)") == true)
    }

    @Test("https to a server that speaks plain HTTP is a TLS failure, said so")
    func tlsToPlainHTTP() async throws {
        try await OpenAITestServer.with { server async throws in
            let plain = OpenAIProvider(settings: .init(baseURL: "https://127.0.0.1:\(server.port)/stream/v1", apiKey: "k",
                                                       timeouts: Self.patientTimeouts))
            let result = await outcome(plain, request(deadline: 30))
            guard case .cannotConnect(.tls)? = result.error else {
                Issue.record("expected a TLS failure, got \(String(describing: result.error))")
                return
            }
        }
    }

    @Test("a host name that does not resolve fails at once, saying so")
    func unresolvableHost() async throws {
        // .invalid never resolves (RFC 6761); without DNS at all the lookup fails at once too.
        let unresolvable = OpenAIProvider(settings: .init(baseURL: "http://ai-provider.invalid/v1", apiKey: "k", timeouts: Self.patientTimeouts))
        let result = await outcome(unresolvable, request(deadline: 30))
        guard case .cannotConnect(.unresolvable(let host, _))? = result.error else {
            Issue.record("expected an unresolvable host, got \(String(describing: result.error))")
            return
        }
        // The kind is the point: a refused lookup is reported as such, not as the connect timeout
        // that `patientTimeouts` would otherwise wait out (timing is not asserted in tests).
        #expect(host == "ai-provider.invalid")
    }
}
