import AWSSigV4
import Foundation
import Handlers
import Testing

@testable import DynamoDBStore

@Suite("DynamoDB retries within the invocation's deadline")
struct DeadlineRetryTests {
    let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret"), region: "eu-west-1", service: "dynamodb")

    func throttledGet(deadline: Date?) async -> (error: (any Error)?, attempts: Int) {
        let endpoint = ScriptedEndpoint(Array(repeating: ScriptedEndpoint.throttled, count: 8))
        let client = DynamoDBClient(endpoint: "https://dynamodb.eu-west-1.amazonaws.com", signer: signer,
                                    retry: RetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2)),
                                    transport: { try await endpoint.answer($0) })
        var request = ItemRequest(table: "chat")
        request.key = ["pk": .string("p"), "sk": .string("s")]
        do {
            _ = try await StoreDeadline.$current.withValue(deadline) {
                try await client.call("GetItem", request, idempotent: true, as: ItemResponse.self)
            }
            return (nil, await endpoint.requests.count)
        } catch {
            return (error, await endpoint.requests.count)
        }
    }

    @Test("a throttled request is not sent again when the retry could not answer before the deadline")
    func noRetryPastTheDeadline() async {
        let outcome = await throttledGet(deadline: Date().addingTimeInterval(0.05))
        #expect((outcome.error as? DynamoDBError)?.isThrottling == true)
        #expect(outcome.attempts == 1)
    }

    @Test("without a deadline a throttled request is retried up to the policy's attempts")
    func retriesWithoutADeadline() async {
        let outcome = await throttledGet(deadline: nil)
        #expect(outcome.attempts == 8)
    }
}

@Suite("The widget cache")
struct WidgetCacheTests {
    func widget(_ id: String) -> WidgetConfig {
        WidgetConfig(widgetId: id, name: "W", allowedDomains: ["example.com"], isActive: true, settings: WidgetSettings(),
                     createdAt: Date(timeIntervalSince1970: 1_750_000_000))
    }

    @Test("a widget kept is served within its lifetime")
    func servedWithinLifetime() {
        let cache = WidgetCache(lifetime: .seconds(60), capacity: 4)
        cache.keep(widget("widget_a_000000000001"))
        #expect(cache.widget(id: "widget_a_000000000001")?.widgetId == "widget_a_000000000001")
    }

    @Test("a widget whose lifetime has ended is read again")
    func notServedAfterLifetime() {
        let cache = WidgetCache(lifetime: .zero, capacity: 4)
        cache.keep(widget("widget_a_000000000001"))
        #expect(cache.widget(id: "widget_a_000000000001") == nil)
    }

    @Test("the cache never holds more than its capacity, the oldest going first")
    func boundedByCapacity() {
        let cache = WidgetCache(lifetime: .seconds(60), capacity: 2)
        for index in 1...3 { cache.keep(widget("widget_a_00000000000\(index)")) }
        #expect(cache.widget(id: "widget_a_000000000001") == nil)
        #expect(cache.widget(id: "widget_a_000000000003") != nil)
    }

    @Test("a widget forgotten is read again")
    func forgetting() {
        let cache = WidgetCache()
        cache.keep(widget("widget_a_000000000001"))
        cache.forget(id: "widget_a_000000000001")
        #expect(cache.widget(id: "widget_a_000000000001") == nil)
    }
}
