import Foundation
@testable import Handlers
import Testing

/// A conversation id gives no access to a conversation; its token does (SPEC §3.1).
@Suite("Conversation ownership")
struct ConversationOwnershipTests {
    @Test("a token is exactly 22 canonical base64url characters")
    func tokenFormat() {
        let token = ConversationToken.random()
        #expect(ConversationToken(token.description) == token)
        #expect(token.description.utf8.count == 22)
        for text in ["", "short", String(repeating: "A", count: 21), String(repeating: "A", count: 23), String(repeating: "!", count: 22),
                     "AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAA+"] {
            #expect(ConversationToken(text) == nil, "\(text)")
        }
    }

    @Test("random tokens differ, and so do the storage keys of one conversation id under them")
    func distinctOwners() {
        let tokens = (0..<1000).map { _ in ConversationToken.random() }
        #expect(Set(tokens.map(\.description)).count == tokens.count)
        let keys = Set(tokens.map { $0.storageKey(widgetId: DemoWidget.id, conversationId: "c1") })
        #expect(keys.count == tokens.count)
        #expect(keys.allSatisfy { ConversationToken.conversationId(ofStorageKey: $0) == "c1" && !$0.contains(tokens[0].description) })
    }

    @Test("a storage key depends on the widget as well as the conversation id and token")
    func widgetBound() {
        let token = ConversationToken.random()
        #expect(token.storageKey(widgetId: "widget_a_000000000001", conversationId: "c1")
                != token.storageKey(widgetId: "widget_b_000000000001", conversationId: "c1"))
        #expect(ConversationToken.conversationId(ofStorageKey: "legacy-id") == "legacy-id")
    }

    @Test("a connection's own conversation token is keyed: other connections and other keys give other tokens")
    func connectionBound() {
        let key = Array("k".utf8)
        let token = ConversationToken.boundTo(connectionId: "IU3kkeN4IAMCJwA=", key: key)
        #expect(token == ConversationToken.boundTo(connectionId: "IU3kkeN4IAMCJwA=", key: key))
        #expect(token != ConversationToken.boundTo(connectionId: "IU3kkeN4IAMCJwB=", key: key))
        #expect(token != ConversationToken.boundTo(connectionId: "IU3kkeN4IAMCJwA=", key: Array("other".utf8)))
        #expect(ConversationToken(token.description) == token)
    }

    @Test("the conversation key comes from CONVERSATION_TOKEN_SECRET, else from ADMIN_JWT_SECRET, and differs from the admin secret")
    func conversationKeySources() {
        let admin = Configuration(environment: ["ADMIN_JWT_SECRET": "an-admin-secret-of-at-least-32-bytes!"])
        let explicit = Configuration(environment: ["ADMIN_JWT_SECRET": "an-admin-secret-of-at-least-32-bytes!",
                                                   "CONVERSATION_TOKEN_SECRET": "a-conversation-secret"])
        #expect(admin.conversationKey != Array("an-admin-secret-of-at-least-32-bytes!".utf8))
        #expect(admin.conversationKey != explicit.conversationKey)
        #expect(Configuration(environment: [:]).conversationKey == Configuration(environment: [:]).conversationKey)
    }

    @Test("a chat POST without the token starts its own conversation under the same id; with it, continues")
    func httpOwnership() async throws {
        let harness = try await Harness()
        let owner = try await harness.chat(Harness.chatBody(message: "my name is Jane", token: nil))
        let token = try #require(owner.body?["conversation_token"]?.stringValue)
        harness.clock.advance(60)
        let stranger = try await harness.chat(Harness.chatBody(message: "what is my name?", token: nil), ip: "198.51.100.99")
        #expect(stranger.status == 200)
        #expect(stranger.body?["conversation_token"]?.stringValue != token)
        let ownKey = try #require(ConversationToken(token)).storageKey(widgetId: DemoWidget.id, conversationId: "c-1")
        #expect(try await harness.store.messages(widgetId: DemoWidget.id, conversationId: ownKey, limit: 10).map(\.content)
                == ["my name is Jane", owner.body?["response"]?.stringValue])
    }

    @Test("WebSocket frames without a token share their connection's conversation, whatever conversation_id they name")
    func webSocketOwnership() async throws {
        let harness = try await Harness()
        _ = try await harness.connect(query: ["sessionId": "victim"], connectionId: "victim-connection=")
        _ = try await harness.send(#"{"action":"sendMessage","message":"hello"}"#, connectionId: "victim-connection=")
        let victimToken = try #require(harness.poster.frames.last?["conversation_token"]?.stringValue)
        _ = try await harness.connect(query: ["sessionId": "attacker"], connectionId: "attacker-connection=", ip: "203.0.113.99")
        _ = try await harness.send(#"{"action":"sendMessage","message":"hello","conversation_id":"victim"}"#,
                                   connectionId: "attacker-connection=", ip: "203.0.113.99")
        let attackerToken = try #require(harness.poster.frames.last?["conversation_token"]?.stringValue)
        #expect(attackerToken != victimToken)
        let victimKey = try #require(ConversationToken(victimToken)).storageKey(widgetId: DemoWidget.id, conversationId: "victim")
        #expect(try await harness.store.messages(widgetId: DemoWidget.id, conversationId: victimKey, limit: 10).count == 2)
    }
}
