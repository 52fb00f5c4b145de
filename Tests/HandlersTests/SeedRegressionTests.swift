import Foundation
import Handlers
import Testing

/// One test per incident in ../shared/seeds: what broke in production must never break here.
@Suite("Seed incidents")
struct SeedRegressionTests {
    @Test("seed 000: the public chat POST needs no CSRF token or cookie")
    func noCSRF() async throws {
        let response = try await Harness().chat(Harness.chatBody())
        #expect(response.status == 200)
        #expect(response.body?["success"] == .bool(true))
    }

    @Test("seed 001: after a domain change, FRONTEND_URL admits the new first-party origin on WebSocket and HTTP")
    func domainChange() async throws {
        let harness = try await Harness(environment: ["FRONTEND_URL": "https://app.new-brand.io", "ALLOWED_ORIGINS": "https://old-brand.com"])
        #expect(try await harness.connect(query: ["sessionId": "s-1"], origin: "https://app.new-brand.io").statusCode == 200)
        #expect(try await harness.chat(Harness.chatBody(), origin: "https://app.new-brand.io").status == 200)
        #expect(try await harness.connect(query: ["sessionId": "s-2"], origin: "https://new-brand.io", connectionId: "X2").statusCode == 403)
    }

    @Test("seed 001: a refused handshake is recorded with the origin actually seen")
    func refusalRecordsOrigin() async throws {
        let harness = try await Harness()
        _ = try await harness.connect(query: ["sessionId": "s-1"], origin: "https://www.voxanne.ai")
        let event = try #require(try await harness.events().first)
        #expect(event.origin == "https://www.voxanne.ai")
        #expect(event.type == .domainNotAllowed)
    }

    @Test("seed 003: CORS headers on 4xx and 5xx for an allowed origin", arguments: ["{bad json", Harness.chatBody(widget: "widget_unknown_widget_1")])
    func corsOnErrors(body: String) async throws {
        let response = try await Harness().chat(body)
        #expect(response.status >= 400)
        #expect(response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173")
        #expect(response.headers["Vary"] == "Origin")
    }

    @Test("seed 003: no CORS headers for a refused origin")
    func noCorsForRefused() async throws {
        let response = try await Harness().chat(Harness.chatBody(), origin: "https://evil.example")
        #expect(response.status == 403)
        #expect(response.headers["Access-Control-Allow-Origin"] == nil)
    }

    @Test("seed 003: an origin with an explicit default port matches the widget's domain", arguments: ["http://localhost:80", "http://localhost:80/", "HTTP://LOCALHOST"])
    func explicitDefaultPort(origin: String) async throws {
        let harness = try await Harness()
        #expect(try await harness.connect(query: ["sessionId": "s-1"], origin: origin).statusCode == 200)
    }

    @Test("seed 004: the trailing-slash URL's query still carries sessionId to $connect")
    func trailingSlash() async throws {
        // API Gateway hands $connect the parsed query whatever the path; the stage tolerates `/dev/?...`.
        let response = try await Harness().connect(query: ["sessionId": "abc-123", "widget_id": DemoWidget.id])
        #expect(response.statusCode == 200)
    }

    @Test("seed 004: an anonymous connection without a token is accepted and recorded as anonymous")
    func anonymous() async throws {
        let harness = try await Harness()
        #expect(try await harness.connect(query: ["sessionId": "s-anon"]).statusCode == 200)
        #expect(try await harness.store.connection(id: "IU3kkeN4IAMCJwA=")?.userId == "anonymous")
    }

    @Test("seed 004: connecting without sessionId is 400")
    func missingSession() async throws {
        #expect(try await Harness().connect(query: ["widget_id": DemoWidget.id]).statusCode == 400)
    }
}

@Suite("sendMessage over WebSocket")
struct SendMessageTests {
    @Test("a reply is one message frame posted to the connection")
    func reply() async throws {
        let harness = try await Harness()
        _ = try await harness.connect(query: ["sessionId": "s-1"])
        let response = try await harness.send(#"{"action":"sendMessage","message":"What is your return policy?"}"#)
        #expect(response.statusCode == 200)
        #expect(harness.poster.frames.count == 1)
        #expect(harness.poster.frames.first?["type"] == .string("message"))
        #expect(harness.poster.frames.first?["conversation_id"] == .string("s-1"))
    }

    @Test("refusals are error frames with the contract's codes", arguments: [
        (#"{"action":"sendMessage","message":"see www.spam.example"}"#, "content_filtered"),
        (#"{"action":"sendMessage"}"#, "invalid_request"),
        (#"{"action":"sendMessage","message":"   "}"#, "invalid_request"),
        ("not json", "invalid_request"),
    ])
    func refused(body: String, code: String) async throws {
        let harness = try await Harness()
        _ = try await harness.connect(query: ["sessionId": "s-1"])
        _ = try await harness.send(body)
        #expect(harness.poster.frames.last?["type"] == .string("error"))
        #expect(harness.poster.frames.last?["error"] == .string(code))
    }

    @Test("a streamed reply is delta frames, together the whole text, then one done frame with it")
    func streamed() async throws {
        struct StreamingProvider: AIProvider {
            func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
                AsyncThrowingStream { continuation in
                    for piece in ["Hel", "lo ", "there"] { continuation.yield(piece) }
                    continuation.finish()
                }
            }
        }
        let base = try await Harness()
        var dependencies = base.dependencies
        dependencies.ai = StreamingProvider()
        _ = try await base.connect(query: ["sessionId": "s-1"])
        let event = WebSocketEvent(
            requestContext: .init(routeKey: "sendMessage", eventType: .message, connectionId: "IU3kkeN4IAMCJwA=", domainName: "abc.example",
                                  stage: "dev", requestTimeEpoch: 0, connectedAt: 0, identity: .init(sourceIp: "203.0.113.10", userAgent: "t")),
            body: #"{"action":"sendMessage","message":"hi"}"#)
        _ = try await SendMessageFunction(dependencies: dependencies).handle(event, context: base.context)
        let types = base.poster.frames.compactMap { $0["type"]?.stringValue }
        #expect(types.count >= 2 && types.dropLast().allSatisfy { $0 == "delta" } && types.last == "done")
        #expect(base.poster.frames.dropLast().compactMap { $0["content"]?.stringValue }.joined() == "Hello there")
        #expect(base.poster.frames.last?["content"] == .string("Hello there"))
    }

    @Test("PII is redacted before the transcript is stored")
    func redaction() async throws {
        let harness = try await Harness()
        _ = try await harness.connect(query: ["sessionId": "s-1"])
        _ = try await harness.send(#"{"action":"sendMessage","message":"mail me at jane.doe@example.com or +44 20 7946 0958"}"#)
        let token = try #require(harness.poster.frames.last?["conversation_token"]?.stringValue.flatMap(ConversationToken.init))
        let stored = try await harness.store.messages(widgetId: DemoWidget.id, conversationId: token.storageKey(widgetId: DemoWidget.id, conversationId: "s-1"),
                                                      limit: 10)
        #expect(stored.first?.content == "mail me at [email] or [phone]")
    }
}
