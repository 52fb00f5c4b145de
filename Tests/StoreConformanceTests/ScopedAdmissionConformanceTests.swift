import Foundation
import Handlers
import Testing

private let expiry = epoch.addingTimeInterval(3600)

/// Admissions whose counters and interval name one scope, as `RateLimiter`'s do: a store may keep
/// them as one record, and must keep the same promises as for counters kept apart.
@Suite("Store conformance: admissions of one scope")
struct ScopedAdmissionConformanceTests {
    static func windows(minute: Int = 0, limits: [Int] = [3, 5], scope: String = "limits:w:ip") -> [CounterIncrement] {
        [CounterIncrement(key: "count:w:ip:per_minute:\(minute)", limit: limits[0], expiresAt: expiry, scope: scope),
         CounterIncrement(key: "count:w:ip:per_hour:0", limit: limits[1], expiresAt: expiry, scope: scope)]
    }

    static func message(_ content: String) -> StoredMessage {
        StoredMessage(widgetId: "w", conversationId: "c", role: .user, content: content, domain: "customer.com", sourceIp: "203.0.113.1",
                      createdAt: epoch)
    }

    @Test("of 50 concurrent admissions of one scope against a limit of 20, exactly 20 are admitted and stored", arguments: StoreKind.allCases)
    func concurrentScopedAdmissionsStayExact(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let outcomes = try await withThrowingTaskGroup(of: AdmissionOutcome.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.windows(limits: [20, 100]),
                                                               message: Self.message("m\(index)")))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let counts = outcomes.compactMap { if case .admitted(let counters, _, _) = $0, case .admitted(let count)? = counters.first { count } else { nil } }
            #expect(counts.sorted() == Array(1...20))
            #expect(outcomes.filter { $0 == .refusedByCounter([.refused(count: 20)]) }.count == 30)
            #expect(try await store.messages(widgetId: "w", conversationId: "c", limit: 100).count == 20)
        }
    }

    @Test("a scoped admission stops at the first counter that refuses and counts none of it", arguments: StoreKind.allCases)
    func scopedRefusalCountsNothing(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let admission = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.windows(limits: [5, 1]))
            #expect(try await store.admit(admission) == .admitted(counters: [.admitted(count: 1), .admitted(count: 1)], history: []))
            #expect(try await store.admit(admission) == .refusedByCounter([.admitted(count: 2), .refused(count: 1)]))
            var roomier = admission
            roomier.counters = Self.windows(limits: [5, 2])
            #expect(try await store.admit(roomier) == .admitted(counters: [.admitted(count: 2), .admitted(count: 2)], history: []))
        }
    }

    @Test("a window that has ended counts from zero again while the others count on", arguments: StoreKind.allCases)
    func endedWindowStartsOver(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            for _ in 0..<3 { _ = try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.windows(minute: 0))) }
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.windows(minute: 0)))
                == .refusedByCounter([.refused(count: 3)]))
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.windows(minute: 60)))
                == .admitted(counters: [.admitted(count: 1), .admitted(count: 4)], history: []))
        }
    }

    @Test("an interval in the scope refuses with the time left and takes back the scope's counts", arguments: StoreKind.allCases)
    func scopedIntervalRefuses(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            func admission(at offset: TimeInterval) -> MessageAdmission {
                MessageAdmission(blockKey: "block:w:ip", now: epoch.addingTimeInterval(offset), counters: Self.windows(limits: [10, 10]),
                                 interval: IntervalClaim(key: "interval:w:ip", interval: 2, expiresAt: expiry, scope: "limits:w:ip"))
            }
            #expect(try await store.admit(admission(at: 0)) == .admitted(counters: [.admitted(count: 1), .admitted(count: 1)], history: []))
            #expect(try await store.admit(admission(at: 0.5))
                == .refusedByInterval(remaining: 1.5, counters: [.admitted(count: 2), .admitted(count: 2)]))
            #expect(try await store.admit(admission(at: 2)) == .admitted(counters: [.admitted(count: 2), .admitted(count: 2)], history: []))
        }
    }

    @Test("a counter of its own before the scope refuses first, and is left as it was when the scope refuses", arguments: StoreKind.allCases)
    func unscopedCounterBeforeTheScope(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let perIP = CounterIncrement(key: "ip:ip:ip_per_minute:0", limit: 2, expiresAt: expiry)
            func admission(scope: String) -> MessageAdmission {
                MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: [perIP] + Self.windows(limits: [1, 10], scope: scope))
            }
            #expect(try await store.admit(admission(scope: "limits:w:ip"))
                == .admitted(counters: [.admitted(count: 1), .admitted(count: 1), .admitted(count: 1)], history: []))
            #expect(try await store.admit(admission(scope: "limits:w:ip")) == .refusedByCounter([.admitted(count: 2), .refused(count: 1)]))
            #expect(try await store.increment(perIP.key, limit: perIP.limit, expiresAt: expiry) == .admitted(count: 2))
            #expect(try await store.admit(admission(scope: "limits:w:ip")) == .refusedByCounter([.refused(count: 2)]))
            #expect(try await store.admit(admission(scope: "limits:v:ip")) == .refusedByCounter([.refused(count: 2)]))
        }
    }

    @Test("a block in force refuses a scoped admission before anything is counted", arguments: StoreKind.allCases)
    func blockRefusesScopedAdmission(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            try await store.block("block:w:ip", until: epoch.addingTimeInterval(60))
            let admission = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.windows(limits: [1, 1]))
            #expect(try await store.admit(admission) == .blocked(until: epoch.addingTimeInterval(60)))
            var later = admission
            later.now = epoch.addingTimeInterval(61)
            #expect(try await store.admit(later) == .admitted(counters: [.admitted(count: 1), .admitted(count: 1)], history: []))
        }
    }
}

@Suite("Store conformance: a widget's daily budget")
struct DailyBudgetConformanceTests {
    static func admission(client: Int, budget: Int) -> MessageAdmission {
        let scope = "limits:w:client\(client)"
        return MessageAdmission(blockKey: "block:client\(client)", now: epoch,
                                counters: [CounterIncrement(key: "count:w:client\(client):per_day:0", limit: 10, expiresAt: expiry, scope: scope)],
                                message: StoredMessage(widgetId: "w", conversationId: "c\(client)", role: .user, content: "m\(client)",
                                                       domain: client.isMultiple(of: 2) ? "a.example" : "b.example", sourceIp: "203.0.113.1",
                                                       createdAt: epoch),
                                budget: budget)
    }

    @Test("a widget's budget holds across clients and domains: never more than it (and a store's slack), and what it refuses is neither stored nor counted",
          arguments: StoreKind.allCases)
    func budgetHoldsAcrossClients(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            var admitted: [Int] = []
            var refused: [Int] = []
            for client in 0..<80 {
                switch try await store.admit(Self.admission(client: client, budget: 16)) {
                case .admitted: admitted.append(client)
                case .refusedByBudget: refused.append(client)
                case let other: Issue.record("client \(client) ended \(other)")
                }
            }
            #expect(admitted.count <= 16 + MessageAdmission.budgetSlack && admitted.count >= 16 - MessageAdmission.budgetSlack)
            let usage = try await store.usage(days: [DailyUsage.day(of: epoch)])
            #expect(usage.reduce(0) { $0 + $1.messages } == admitted.count)
            #expect(Set(usage.map(\.domain)) == ["a.example", "b.example"])
            for client in refused.prefix(3) {
                #expect(try await store.messages(widgetId: "w", conversationId: "c\(client)", limit: 10).isEmpty)
                // Its counter was taken back: without the budget, it counts 1.
                var again = Self.admission(client: client, budget: 16)
                again.budget = nil
                #expect(try await store.admit(again) == .admitted(counters: [.admitted(count: 1)], history: []))
            }
        }
    }
}
