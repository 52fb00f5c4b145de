import Foundation
import Handlers
import Testing

@Suite("A widget's daily message budget")
struct DailyBudgetTests {
    @Test("past WIDGET_DAILY_MESSAGE_BUDGET every client is refused with 429 rate_limit_exceeded until the UTC day ends")
    func deploymentBudgetRefusesEveryClient() async throws {
        let harness = try await Harness(environment: ["WIDGET_DAILY_MESSAGE_BUDGET": "2"])
        #expect(try await harness.chat(Harness.chatBody(), ip: "198.51.100.1").status == 200)
        #expect(try await harness.chat(Harness.chatBody(), ip: "198.51.100.2").status == 200)
        let refused = try await harness.chat(Harness.chatBody(), ip: "198.51.100.3")
        #expect(refused.status == 429)
        #expect(refused.body?["error"] == .string("rate_limit_exceeded"))
        let retry = try #require(refused.body?["retry_after"]?.intValue)
        #expect((1...86_400).contains(retry))
        #expect(refused.headers["Retry-After"] == "\(retry)")
    }

    @Test("a refusal by the budget is one security event naming the budget and one blocked request in the day's usage")
    func budgetRefusalIsCountedOnce() async throws {
        let harness = try await Harness(environment: ["WIDGET_DAILY_MESSAGE_BUDGET": "1"])
        _ = try await harness.chat(Harness.chatBody(), ip: "198.51.100.1")
        _ = try await harness.chat(Harness.chatBody(), ip: "198.51.100.2")
        let events = try await harness.events(.rateLimit)
        #expect(events.map { $0.details["limit_type"] } == ["widget_daily_budget"])
        let usage = try await harness.store.usage(days: [DailyUsage.day(of: harness.clock.now())])
        #expect(usage.reduce(0) { $0 + $1.messages } == 1)
        #expect(usage.reduce(0) { $0 + $1.blocked } == 1)
    }

    @Test("a widget's own daily_message_budget overrides the deployment's, and 0 sets none")
    func widgetBudgetOverrides() async throws {
        var widget = DemoWidget.make(createdAt: Date(timeIntervalSince1970: 1_764_000_000))
        widget.limits.dailyMessageBudget = 0
        let harness = try await Harness(environment: ["WIDGET_DAILY_MESSAGE_BUDGET": "1"], widget: widget)
        #expect(try await harness.chat(Harness.chatBody(), ip: "198.51.100.1").status == 200)
        #expect(try await harness.chat(Harness.chatBody(), ip: "198.51.100.2").status == 200)
    }
}
