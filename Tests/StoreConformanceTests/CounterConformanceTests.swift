import Foundation
import Handlers
import Synchronization
import Testing

private let expiry = epoch.addingTimeInterval(120)

@Suite("Store conformance: counters, intervals and blocks")
struct CounterConformanceTests {
    @Test("200 concurrent increments against a limit of 37 admit exactly 37, counting 1 to 37", arguments: StoreKind.allCases)
    func exactUnderConcurrency(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let outcomes = try await withThrowingTaskGroup(of: CounterOutcome.self) { group in
                for _ in 0..<200 { group.addTask { try await store.increment("count:w:ip:per_minute:0", limit: 37, expiresAt: expiry) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let admitted = outcomes.compactMap { if case .admitted(let count) = $0 { count } else { nil } }
            #expect(admitted.sorted() == Array(1...37))
            #expect(outcomes.filter { $0 == .refused(count: 37) }.count == 163)
        }
    }

    @Test("a refused increment reports the count and changes nothing; a decrement makes room again", arguments: StoreKind.allCases)
    func refusalAndDecrement(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.increment("k", limit: 2, expiresAt: expiry) == .admitted(count: 1))
            #expect(try await store.increment("k", limit: 2, expiresAt: expiry) == .admitted(count: 2))
            #expect(try await store.increment("k", limit: 2, expiresAt: expiry) == .refused(count: 2))
            try await store.decrement("k")
            #expect(try await store.increment("k", limit: 2, expiresAt: expiry) == .admitted(count: 2))
            #expect(try await store.increment("other", limit: 2, expiresAt: expiry) == .admitted(count: 1))
        }
    }

    static func counters(_ limits: [Int]) -> [CounterIncrement] {
        limits.enumerated().map { CounterIncrement(key: "b\($0.offset)", limit: $0.element, expiresAt: expiry) }
    }

    static func message(_ content: String) -> StoredMessage {
        StoredMessage(widgetId: "w", conversationId: "c", role: .user, content: content, domain: "customer.com", sourceIp: "203.0.113.1",
                      createdAt: epoch)
    }

    @Test("an admission increments its counters in order and stops at the first refusal, taking back the ones before it",
          arguments: StoreKind.allCases)
    func admissionCountersInOrder(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let checks = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.counters([5, 1, 5]))
            #expect(try await store.admit(checks) == .admitted(counters: [.admitted(count: 1), .admitted(count: 1), .admitted(count: 1)], history: []))
            #expect(try await store.admit(checks) == .refusedByCounter([.admitted(count: 2), .refused(count: 1)]))
            #expect(try await store.increment("b0", limit: 5, expiresAt: expiry) == .admitted(count: 2))
            #expect(try await store.increment("b2", limit: 5, expiresAt: expiry) == .admitted(count: 2))
        }
    }

    @Test("a counter that refuses leaves every counter after it uncounted, one it would have created included", arguments: StoreKind.allCases)
    func countersAfterARefusalStayUncounted(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            #expect(try await store.increment("full", limit: 1, expiresAt: expiry) == .admitted(count: 1))
            let counters = [CounterIncrement(key: "before", limit: 5, expiresAt: expiry), CounterIncrement(key: "full", limit: 1, expiresAt: expiry),
                            CounterIncrement(key: "after", limit: 5, expiresAt: expiry)]
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: counters)) ==
                    .refusedByCounter([.admitted(count: 1), .refused(count: 1)]))
            #expect(try await store.increment("before", limit: 5, expiresAt: expiry) == .admitted(count: 1))
            #expect(try await store.increment("after", limit: 5, expiresAt: expiry) == .admitted(count: 1))
        }
    }

    @Test("an admission that names a counter twice counts it twice, in order", arguments: StoreKind.allCases)
    func repeatedCounterCountsTwice(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let twice = [CounterIncrement(key: "k", limit: 3, expiresAt: expiry), CounterIncrement(key: "k", limit: 3, expiresAt: expiry)]
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: twice)) ==
                    .admitted(counters: [.admitted(count: 1), .admitted(count: 2)], history: []))
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: twice)) ==
                    .refusedByCounter([.admitted(count: 3), .refused(count: 3)]))
            #expect(try await store.increment("k", limit: 3, expiresAt: expiry) == .admitted(count: 3))
        }
    }

    @Test("an admission of a dozen counters counts every one, and a refusal among them counts none", arguments: StoreKind.allCases)
    func manyCountersCountTogether(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let counters = (0..<12).map { CounterIncrement(key: "many\($0)", limit: $0 == 10 ? 1 : 5, expiresAt: expiry) }
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: counters)) ==
                    .admitted(counters: Array(repeating: .admitted(count: 1), count: 12), history: []))
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: counters)) ==
                    .refusedByCounter(Array(repeating: .admitted(count: 2), count: 10) + [.refused(count: 1)]))
            for index in [0, 9, 11] {
                #expect(try await store.increment("many\(index)", limit: 5, expiresAt: expiry) == .admitted(count: 2))
            }
        }
    }

    @Test("a refused admission stores nothing; an admission without a message stores nothing either", arguments: StoreKind.allCases)
    func refusedAdmissionStoresNothing(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let refused = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.counters([0]), message: Self.message("refused"))
            #expect(try await store.admit(refused) == .refusedByCounter([.refused(count: 0)]))
            #expect(try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.counters([5]))) ==
                    .admitted(counters: [.admitted(count: 1)], history: []))
            #expect(try await store.messages(widgetId: "w", conversationId: "c", limit: 10).isEmpty)
            #expect(try await store.usage(days: [DailyUsage.day(of: epoch)]).isEmpty)
        }
    }

    @Test("an admission's answer is asked only once the message is admitted, from the history read; its reply is stored right after the message and not counted, an empty one not at all",
          arguments: StoreKind.allCases)
    func admissionStoresItsAnswer(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let heard = Mutex<[[String]]>([])
            func answer(_ text: String) -> ImmediateAnswer {
                ImmediateAnswer(reply: { history in
                    heard.withLock { $0.append(history.map(\.content)) }
                    return text
                }, stored: { text in
                    var reply = Self.message(text)
                    reply.role = .assistant
                    return reply
                })
            }
            _ = try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: [], message: Self.message("earlier")))
            let admission = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.counters([1]), message: Self.message("question"),
                                             answer: answer("the answer"), historyLimit: 10)
            #expect(try await store.admit(admission)
                    == .admitted(counters: [.admitted(count: 1)], history: [Self.message("earlier")], reply: "the answer"))
            #expect(try await store.admit(admission) == .refusedByCounter([.refused(count: 1)]))
            var again = Self.message("again")
            again.conversationId = "c2"
            let unanswered = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: [], message: again, answer: answer(""))
            #expect(try await store.admit(unanswered) == .admitted(counters: [], history: [], reply: ""))
            #expect(heard.withLock { $0 } == [["earlier"], []])
            let stored = try await store.messages(widgetId: "w", conversationId: "c", limit: 10)
            #expect(stored.map(\.content) == ["earlier", "question", "the answer"])
            #expect(stored.map(\.role) == [.user, .user, .assistant])
            #expect(try await store.messages(widgetId: "w", conversationId: "c2", limit: 10).map(\.content) == ["again"])
            #expect(try await store.usage(days: [DailyUsage.day(of: epoch)]).map(\.messages) == [3])
        }
    }

    @Test("a block in force refuses an admission before anything is counted", arguments: StoreKind.allCases)
    func blockedAdmission(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let until = epoch.addingTimeInterval(300)
            try await store.block("block:w:ip", until: until)
            let admission = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.counters([5]), message: Self.message("hi"))
            #expect(try await store.admit(admission) == .blocked(until: until))
            #expect(try await store.increment("b0", limit: 5, expiresAt: expiry) == .admitted(count: 1))
            var later = admission
            later.now = until
            #expect(try await store.admit(later) == .admitted(counters: [.admitted(count: 2)], history: []))
        }
    }

    @Test("an interval still running refuses an admission and takes back every increment", arguments: StoreKind.allCases)
    func intervalRefusesAdmission(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            var admission = MessageAdmission(blockKey: "block:w:ip", now: epoch, counters: Self.counters([5, 5]),
                                             interval: IntervalClaim(key: "interval:w:ip", interval: 2, expiresAt: expiry))
            #expect(try await store.admit(admission) == .admitted(counters: [.admitted(count: 1), .admitted(count: 1)], history: []))
            admission.now = epoch.addingTimeInterval(0.5)
            admission.message = Self.message("too soon")
            #expect(try await store.admit(admission) == .refusedByInterval(remaining: 1.5, counters: [.admitted(count: 2), .admitted(count: 2)]))
            #expect(try await store.increment("b0", limit: 5, expiresAt: expiry) == .admitted(count: 2))
            #expect(try await store.increment("b1", limit: 5, expiresAt: expiry) == .admitted(count: 2))
            #expect(try await store.messages(widgetId: "w", conversationId: "c", limit: 10).isEmpty)
        }
    }

    @Test("of 50 concurrent admissions against a limit of 20, exactly 20 are admitted and stored", arguments: StoreKind.allCases)
    func concurrentAdmissionsStayExact(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            let outcomes = try await withThrowingTaskGroup(of: AdmissionOutcome.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await store.admit(MessageAdmission(blockKey: "block:w:ip", now: epoch,
                                                               counters: [CounterIncrement(key: "c", limit: 20, expiresAt: expiry)],
                                                               message: Self.message("m\(index)")))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let counts = outcomes.compactMap { if case .admitted(let counters, _, _) = $0, case .admitted(let count)? = counters.first { count } else { nil } }
            #expect(counts.sorted() == Array(1...20))
            #expect(try await store.messages(widgetId: "w", conversationId: "c", limit: 100).count == 20)
        }
    }

    @Test("a decrement never takes a counter below zero, nor creates one", arguments: StoreKind.allCases)
    func decrementFloor(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.decrement("never-counted")
            #expect(try await store.increment("never-counted", limit: 5, expiresAt: expiry) == .admitted(count: 1))
            try await store.decrement("never-counted")
            try await store.decrement("never-counted")
            #expect(try await store.increment("never-counted", limit: 5, expiresAt: expiry) == .admitted(count: 1))
        }
    }

    @Test("a limit of zero refuses at once", arguments: StoreKind.allCases)
    func zeroLimit(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            #expect(try await store.increment("k", limit: 0, expiresAt: expiry) == .refused(count: 0))
        }
    }

    @Test("a counter without a limit counts on", arguments: StoreKind.allCases)
    func unlimited(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            for expected in 1...3 {
                #expect(try await store.increment("warn:w:ip:0", limit: .max, expiresAt: expiry) == .admitted(count: expected))
            }
        }
    }

    @Test("an interval claim succeeds, then returns the time left until the interval has passed", arguments: StoreKind.allCases)
    func interval(_ kind: StoreKind) async throws {
        try await kind.withStore { store throws in
            #expect(try await store.claimInterval("interval:w:ip", now: epoch, interval: 2, expiresAt: expiry) == nil)
            #expect(try await store.claimInterval("interval:w:ip", now: epoch.addingTimeInterval(0.5), interval: 2, expiresAt: expiry) == 1.5)
            #expect(try await store.claimInterval("interval:w:ip", now: epoch.addingTimeInterval(2), interval: 2, expiresAt: expiry) == nil)
            #expect(try await store.claimInterval("interval:w:ip", now: epoch.addingTimeInterval(3), interval: 2, expiresAt: expiry) == 1)
        }
    }

    @Test("of concurrent claims of one interval exactly one succeeds", arguments: StoreKind.allCases)
    func concurrentClaims(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let claimed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await store.claimInterval("interval:x", now: epoch, interval: 2, expiresAt: expiry) == nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(claimed == 1)
        }
    }

    @Test("a block holds until it ends and a shorter one never shortens it", arguments: StoreKind.allCases)
    func blocks(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let until = epoch.addingTimeInterval(300)
            #expect(try await store.blockedUntil("block:w:ip", now: epoch) == nil)
            try await store.block("block:w:ip", until: until)
            try await store.block("block:w:ip", until: epoch.addingTimeInterval(100))
            #expect(try await store.blockedUntil("block:w:ip", now: epoch) == until)
            #expect(try await store.blockedUntil("block:w:ip", now: epoch.addingTimeInterval(299.5)) == until)
            #expect(try await store.blockedUntil("block:w:ip", now: until) == nil)
            let longer = epoch.addingTimeInterval(600)
            try await store.block("block:w:ip", until: longer)
            #expect(try await store.blockedUntil("block:w:ip", now: until) == longer)
        }
    }
}
