import Foundation
import Handlers
import SQLiteStore
import Testing

@Suite("SQLite counters")
struct CounterTests {
    @Test("concurrent increments against a limit admit exactly the limit")
    func exactUnderConcurrency() async throws {
        let store = try SQLiteStore(.inMemory)
        let expiry = Date().addingTimeInterval(60)
        let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    if case .admitted = try await store.increment("k", limit: 37, expiresAt: expiry) { return true }
                    return false
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 37)
    }

    @Test("a file store keeps its data across reopening")
    func survivesReopen() async throws {
        let path = DatabaseFiles.temporaryPath("store")
        defer { DatabaseFiles.remove(path) }
        do {
            let store = try SQLiteStore(.file(path))
            try await store.putWidget(DemoWidget.make(createdAt: Date(timeIntervalSince1970: 1000)))
        }
        let reopened = try SQLiteStore(.file(path))
        #expect(try await reopened.widget(id: DemoWidget.id)?.name == "Local demo widget")
    }
}
