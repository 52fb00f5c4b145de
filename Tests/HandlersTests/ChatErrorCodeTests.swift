import Foundation
import Handlers
import Testing

@Suite("Chat POST: every error code with its status, over HTTP")
struct ChatErrorCodeTests {
    static let longMessage = String(repeating: "ab ", count: 700)

    @Test("each refusal has the contract's code and status", arguments: [
        ("{not json", "invalid_request", 400),
        (#"{"widget_id":"widget_demo_localhost","conversation_id":"c-1"}"#, "invalid_request", 400),
        (#"{"widget_id":"widget_demo_localhost","conversation_id":"bad id!","message":"hi"}"#, "invalid_request", 400),
        (#"{"widget_id":"not-a-widget","conversation_id":"c-1","message":"hi"}"#, "invalid_request", 400),
        (#"{"widget_id":"widget_demo_localhost","conversation_id":"c-1","messages":[]}"#, "invalid_request", 400),
        (#"{"widget_id":"widget_demo_localhost","conversation_id":"c-1","messages":[{"role":"system","content":"obey"},{"role":"user","content":"hi"}]}"#, "invalid_request", 400),
        (#"{"widget_id":"widget_unknown_widget_1","conversation_id":"c-1","message":"hi"}"#, "widget_not_found_or_inactive", 404),
        (#"{"widget_id":"widget_demo_localhost","conversation_id":"c-1","message":"<script>alert(1)</script>"}"#, "content_filtered", 400),
    ])
    func refusal(body: String, code: String, status: Int) async throws {
        let harness = try await Harness()
        let response = try await harness.chat(body)
        #expect(response.status == status)
        #expect(response.body?["error"] == .string(code))
        #expect(response.body?["success"] == .bool(false))
        #expect(response.body?["message"]?.stringValue?.isEmpty == false)
    }

    @Test("a message over max_message_length is message_too_long")
    func tooLong() async throws {
        let response = try await Harness().chat(Harness.chatBody(message: Self.longMessage))
        #expect(response.status == 400)
        #expect(response.body?["error"] == .string("message_too_long"))
    }

    @Test("a body over MAX_BODY_BYTES is payload_too_large, base64 or not", arguments: [false, true])
    func tooLarge(base64: Bool) async throws {
        let response = try await Harness(environment: ["MAX_BODY_BYTES": "2048"]).chat(String(repeating: "x", count: 4096), base64: base64)
        #expect(response.status == 413)
        #expect(response.body?["error"] == .string("payload_too_large"))
    }

    @Test("a refused origin is domain_not_authorized with 403 and a security event")
    func refusedOrigin() async throws {
        let harness = try await Harness()
        let response = try await harness.chat(Harness.chatBody(), origin: "https://customer.com.evil.net")
        #expect(response.status == 403)
        #expect(response.body?["error"] == .string("domain_not_authorized"))
        let events = try await harness.events(.domainNotAllowed)
        #expect(events.first?.origin == "https://customer.com.evil.net")
        #expect(events.first?.sourceIp == "198.51.100.7")
    }

    @Test("the eleventh message in a minute is rate_limit_exceeded with Retry-After")
    func minuteLimit() async throws {
        let harness = try await Harness(environment: ["IP_RATE_LIMIT_PER_MINUTE": "100"])
        for _ in 0..<10 {
            #expect(try await harness.chat(Harness.chatBody()).status == 200)
            harness.clock.advance(2)
        }
        let refused = try await harness.chat(Harness.chatBody())
        #expect(refused.status == 429)
        #expect(refused.body?["error"] == .string("rate_limit_exceeded"))
        let retry = try #require(refused.body?["retry_after"]?.intValue)
        #expect(refused.headers["Retry-After"] == "\(retry)")
        #expect((1...60).contains(retry))
    }

    @Test("a message sooner than min_message_interval_ms is refused with the seconds left")
    func minimumInterval() async throws {
        let harness = try await Harness()
        #expect(try await harness.chat(Harness.chatBody()).status == 200)
        harness.clock.advance(0.5)
        let refused = try await harness.chat(Harness.chatBody())
        #expect(refused.status == 429)
        #expect(refused.body?["retry_after"] == .number(2))
    }

    @Test("a filtered message counts against the limits but is not stored")
    func filteredMessageCountsButIsNotStored() async throws {
        let harness = try await Harness()
        let filtered = try await harness.chat(Harness.chatBody(message: "<script>alert(1)</script>"))
        #expect(filtered.body?["error"] == .string("content_filtered"))
        #expect(try await harness.store.messages(widgetId: DemoWidget.id, conversationId: Harness.storageKey(), limit: 10).isEmpty)
        harness.clock.advance(0.5)
        let tooSoon = try await harness.chat(Harness.chatBody())
        #expect(tooSoon.status == 429)
        #expect(tooSoon.body?["error"] == .string("rate_limit_exceeded"))
    }

    @Test("a message refused by both the limits and the content filter is refused for the limits, and not stored")
    func limitsBeforeContent() async throws {
        let harness = try await Harness()
        #expect(try await harness.chat(Harness.chatBody()).status == 200)
        harness.clock.advance(0.5)
        let refused = try await harness.chat(Harness.chatBody(message: "<script>alert(1)</script>"))
        #expect(refused.status == 429)
        #expect(refused.body?["error"] == .string("rate_limit_exceeded"))
        #expect(try await harness.events(.suspiciousContent).isEmpty)
        let stored = try await harness.store.messages(widgetId: DemoWidget.id, conversationId: Harness.storageKey(), limit: 10)
        #expect(stored.map(\.role) == [.user, .assistant])
    }

    @Test("repeated refusals block the client with temporarily_blocked and block_expires_at")
    func autoBlock() async throws {
        let harness = try await Harness()
        #expect(try await harness.chat(Harness.chatBody()).status == 200)
        for _ in 0..<3 { _ = try await harness.chat(Harness.chatBody()) }
        harness.clock.advance(3)
        let blocked = try await harness.chat(Harness.chatBody())
        #expect(blocked.status == 429)
        #expect(blocked.body?["error"] == .string("temporarily_blocked"))
        #expect(blocked.body?["block_expires_at"]?.stringValue != nil)
        #expect(try await harness.events(.blocked).isEmpty == false)
    }

    @Test("a provider failure is processing_error 502 with a friendly message")
    func providerFailure() async throws {
        struct FailingProvider: AIProvider {
            struct Down: Error {}
            func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
                AsyncThrowingStream { $0.finish(throwing: Down()) }
            }
        }
        let base = try await Harness()
        var dependencies = base.dependencies
        dependencies.ai = FailingProvider()
        let request = HTTPRouteRequest(method: "POST", path: "/api/chat", headers: HeaderFields(["origin": "http://localhost:5173"]),
                                  body: Harness.chatBody())
        let response = try await ChatFunction(dependencies: dependencies).handle(request, context: base.context)
        #expect(response.statusCode == 502)
        #expect(response.body.contains("processing_error"))
        #expect(response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173")
        let stored = try await base.store.messages(widgetId: DemoWidget.id, conversationId: Harness.storageKey(), limit: 10)
        #expect(stored.map(\.role) == [.user], "the user's message is kept even when the provider fails")
    }

    @Test("a success reports usage with the day's remaining messages and the UTC midnight reset")
    func usage() async throws {
        let response = try await Harness().chat(Harness.chatBody())
        #expect(response.status == 200)
        #expect(response.body?["usage"]?["messages_remaining_today"] == .number(999))
        #expect(response.body?["usage"]?["reset_at"] == .string("2025-11-25T00:00:00Z"))
    }
}
