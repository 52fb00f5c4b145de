import Foundation
import Handlers
import Testing

@Suite("Store conformance: conversations")
struct ConversationConformanceTests {
    static func message(_ content: String, widget: String = "widget_chat_0000001", conversation: String = "conv-1",
                        role: ChatRole = .user, at date: Date = epoch) -> StoredMessage {
        StoredMessage(widgetId: widget, conversationId: conversation, role: role, content: content, domain: "customer.com",
                      sourceIp: "203.0.113.9", createdAt: date)
    }

    @Test("the last N messages come back oldest first, in append order even with equal timestamps", arguments: StoreKind.allCases)
    func lastInOrder(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let messages = (1...7).map { Self.message("message \($0)", role: $0.isMultiple(of: 2) ? .assistant : .user) }
            for message in messages { try await store.appendMessage(message) }
            #expect(try await store.messages(widgetId: "widget_chat_0000001", conversationId: "conv-1", limit: 5) == Array(messages[2...]))
            #expect(try await store.messages(widgetId: "widget_chat_0000001", conversationId: "conv-1", limit: 100) == messages)
            #expect(try await store.messages(widgetId: "widget_chat_0000001", conversationId: "conv-1", limit: 0).isEmpty)
        }
    }

    @Test("conversations are kept apart by widget and id, even when ids contain separators", arguments: StoreKind.allCases)
    func separation(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let first = Self.message("first", widget: "a#b", conversation: "c")
            let second = Self.message("second", widget: "a", conversation: "b#c")
            let third = Self.message("third", widget: "widget_chat_0000002", conversation: "c")
            for message in [first, second, third] { try await store.appendMessage(message) }
            #expect(try await store.messages(widgetId: "a#b", conversationId: "c", limit: 10) == [first])
            #expect(try await store.messages(widgetId: "a", conversationId: "b#c", limit: 10) == [second])
            #expect(try await store.messages(widgetId: "widget_chat_0000002", conversationId: "c", limit: 10) == [third])
            #expect(try await store.messages(widgetId: "widget_chat_0000001", conversationId: "c", limit: 10).isEmpty)
        }
    }

    @Test("messages appended concurrently are all kept", arguments: StoreKind.allCases)
    func concurrentAppends(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 { group.addTask { try await store.appendMessage(Self.message("m\(index)")) } }
                try await group.waitForAll()
            }
            let stored = try await store.messages(widgetId: "widget_chat_0000001", conversationId: "conv-1", limit: 100)
            #expect(Set(stored.map(\.content)) == Set((0..<20).map { "m\($0)" }))
        }
    }

    @Test("an admitted user message is stored and counted in its day's usage bucket for its widget and domain",
          arguments: StoreKind.allCases)
    func userMessageCountsUsage(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let message = Self.message("hello")
            _ = try await store.admitUnchecked(message, historyLimit: 10)
            #expect(try await store.messages(widgetId: "widget_chat_0000001", conversationId: "conv-1", limit: 10) == [message])
            #expect(try await store.usage(days: [DailyUsage.day(of: epoch)]) == [
                DailyUsage(day: DailyUsage.day(of: epoch), widgetId: "widget_chat_0000001", domain: "customer.com", messages: 1, blocked: 0),
            ])
        }
    }

    @Test("a user message without a domain is counted under the unknown domain", arguments: StoreKind.allCases)
    func userMessageWithoutDomain(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            var message = Self.message("hello")
            message.domain = nil
            _ = try await store.admitUnchecked(message, historyLimit: 0)
            #expect(try await store.usage(days: [DailyUsage.day(of: epoch)]).map(\.domain) == [DailyUsage.unknown])
        }
    }

    @Test("admitting a user message returns the conversation's last N messages from before it, oldest first",
          arguments: StoreKind.allCases)
    func userMessageReturnsEarlierHistory(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let earlier = (1...4).map { Self.message("message \($0)", role: $0.isMultiple(of: 2) ? .assistant : .user) }
            for message in earlier { try await store.appendMessage(message) }
            try await store.appendMessage(Self.message("elsewhere", conversation: "conv-2"))
            #expect(try await store.admitUnchecked(Self.message("new"), historyLimit: 3) == Array(earlier[1...]))
            #expect(try await store.admitUnchecked(Self.message("newer"), historyLimit: 0).isEmpty)
        }
    }

    @Test("user messages admitted concurrently are all kept and each counted once", arguments: StoreKind.allCases)
    func concurrentUserMessages(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 { group.addTask { _ = try await store.admitUnchecked(Self.message("m\(index)"), historyLimit: 5) } }
                try await group.waitForAll()
            }
            #expect(try await store.messages(widgetId: "widget_chat_0000001", conversationId: "conv-1", limit: 100).count == 20)
            #expect(try await store.usage(days: [DailyUsage.day(of: epoch)]).map(\.messages) == [20])
        }
    }
}

extension Store {
    /// A user message admitted with nothing to check: its storage, usage and history read alone.
    func admitUnchecked(_ message: StoredMessage, historyLimit: Int) async throws -> [StoredMessage] {
        let outcome = try await admit(MessageAdmission(blockKey: "block:nobody", now: epoch, counters: [], message: message,
                                                       historyLimit: historyLimit))
        guard case .admitted(let counters, let history, _) = outcome, counters.isEmpty else {
            Issue.record("an admission without checks ended \(outcome)")
            return []
        }
        return history
    }
}
