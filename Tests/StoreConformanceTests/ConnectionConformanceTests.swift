import Foundation
import Handlers
import Testing

@Suite("Store conformance: connections")
struct ConnectionConformanceTests {
    static func connection(_ id: String, origin: String? = "https://customer.com", userAgent: String? = "Mozilla/5.0") -> ConnectionRecord {
        ConnectionRecord(connectionId: id, widgetId: "widget_conn_000001", sessionId: "session-1", origin: origin, sourceIp: "203.0.113.9",
                         userAgent: userAgent, userId: "anonymous", connectedAt: epoch, expiresAt: epoch.addingTimeInterval(3 * 3600))
    }

    @Test("a connection reads back equal, absent fields included", arguments: StoreKind.allCases)
    func roundTrip(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let full = Self.connection("IU3kkeN4IAMCJwA=")
            let bare = Self.connection("Zm9vYmFyYmF6cXU=", origin: nil, userAgent: nil)
            try await store.putConnection(full)
            try await store.putConnection(bare)
            #expect(try await store.connection(id: full.connectionId) == full)
            #expect(try await store.connection(id: bare.connectionId) == bare)
            #expect(try await store.connection(id: "unknown") == nil)
        }
    }

    @Test("removing a connection returns it once, then nil: disconnect is idempotent", arguments: StoreKind.allCases)
    func idempotentRemoval(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let record = Self.connection("IU3kkeN4IAMCJwA=")
            try await store.putConnection(record)
            #expect(try await store.removeConnection(id: record.connectionId) == record)
            #expect(try await store.removeConnection(id: record.connectionId) == nil)
            #expect(try await store.connection(id: record.connectionId) == nil)
            #expect(try await store.removeConnection(id: "never-connected") == nil)
        }
    }

    @Test("concurrent removals of one connection return it exactly once", arguments: StoreKind.allCases)
    func concurrentRemoval(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let record = Self.connection("IU3kkeN4IAMCJwA=")
            try await store.putConnection(record)
            let removed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 { group.addTask { try await store.removeConnection(id: record.connectionId) != nil } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(removed == 1)
        }
    }
}
