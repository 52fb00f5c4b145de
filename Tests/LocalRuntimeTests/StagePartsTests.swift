import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("Stage pieces")
struct StagePartsTests {
    @Test("route selection reads the expression's path in a JSON body", arguments: [
        (#"{"action":"sendMessage","message":"hi"}"#, "sendMessage" as String?),
        (#"{"message":"hi"}"#, nil),
        ("not json", nil),
        (#"["sendMessage"]"#, nil),
        (#"{"action":42}"#, nil),
    ])
    func routeSelection(body: String, route: String?) {
        #expect(RouteSelection(expression: "$request.body.action").routeKey(for: Array(body.utf8)) == route)
    }

    @Test("nested route selection paths are followed")
    func nestedRouteSelection() {
        let selection = RouteSelection(expression: "$request.body.meta.kind")
        #expect(selection.routeKey(for: Array(#"{"meta":{"kind":"ping"}}"#.utf8)) == "ping")
    }

    @Test("connection ids look like API Gateway's: 16 base64 characters ending in =")
    func connectionIds() {
        let ids = (0..<200).map { _ in AWSIdentifiers.connectionId() }
        #expect(ids.allSatisfy { $0.count == 16 && $0.hasSuffix("=") && Data(base64Encoded: $0)?.count == 11 })
        #expect(Set(ids).count == ids.count)
    }

    @Test("the ids' base64 is Foundation's: each decodes to 11 bytes that encode back to it")
    func connectionIdBase64() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let id = AWSIdentifiers.requestId(using: &generator)
            #expect(Data(base64Encoded: id).map { $0.count == 11 && $0.base64EncodedString() == id } == true, "\(id)")
        }
    }

    @Test("log durations have two decimals", arguments: [
        (0.0, "0.00"), (0.004, "0.00"), (0.006, "0.01"), (1.5, "1.50"), (12.345678, "12.35"), (999.999, "1000.00"), (2.1, "2.10"),
    ])
    func logDurations(milliseconds: Double, text: String) {
        #expect(Milliseconds.text(milliseconds) == text)
        let record = InvocationRecord(function: "SendMessageFunction", route: "sendMessage", id: "IU3kkeN4IAMCJwA=", status: "200",
                                      milliseconds: milliseconds)
        #expect(record.line == "SendMessageFunction  sendMessage  IU3kkeN4IAMCJwA=  200  \(text) ms")
    }

    @Test("log durations agree with %.2f away from exact halves")
    func logDurationsLikePrintf() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let milliseconds = Double.random(in: 0..<100_000, using: &generator)
            let scaled = milliseconds * 100
            guard abs(scaled - scaled.rounded(.down) - 0.5) > 1e-6 else { continue }
            #expect(Milliseconds.text(milliseconds) == String(format: "%.2f", milliseconds), "\(milliseconds)")
        }
    }

    @Test("text and binary bodies select the same route")
    func routeSelectionOnText() {
        let selection = RouteSelection(expression: "$request.body.action")
        for body in [#"{"action":"sendMessage"}"#, #"{"action":"é"}"#, "not json", #"{"action":1}"#, "\u{FEFF}{}"] {
            #expect(selection.routeKey(for: body) == selection.routeKey(for: Array(body.utf8)), "\(body)")
        }
    }

    @Test("Lambda request ids are distinct lower-case version 4 UUIDs")
    func lambdaRequestIds() throws {
        let ids = (0..<2000).map { _ in AWSIdentifiers.lambdaRequestId() }
        for id in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id)
            #expect(uuid.uuid.6 >> 4 == 4 && uuid.uuid.8 >> 6 == 0b10, "\(id)")
        }
        #expect(Set(ids).count == ids.count)
        // Every hex digit position outside the fixed bits takes more than one value.
        for position in ids[0].indices where ![8, 13, 14, 18, 23].contains(ids[0].distance(from: ids[0].startIndex, to: position)) {
            #expect(Set(ids.map { $0[position] }).count > 1)
        }
    }

    @Test("replay's request ids are distinct version 4 UUIDs too, drawn from its own seeded generator")
    func replayRequestIds() throws {
        var generator = SplitMix64()
        let ids = (0..<2000).map { _ in AWSIdentifiers.lambdaRequestId(using: &generator) }
        for id in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id)
            #expect(uuid.uuid.6 >> 4 == 4 && uuid.uuid.8 >> 6 == 0b10, "\(id)")
        }
        #expect(Set(ids).count == ids.count)
        // Seeded alike, two generators draw alike; the default seed comes from the system.
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7)
        #expect(AWSIdentifiers.lambdaRequestId(using: &a) == AWSIdentifiers.lambdaRequestId(using: &b))
    }

    @Test("a connection's message ids are API Gateway shaped and never repeat, within or across messages")
    func messageIds() throws {
        var generator = SplitMix64()
        let messages = (0..<2000).map { _ in MessageIds(drawingFrom: &generator) }
        let gatewayIds = messages.flatMap { [$0.requestId, $0.messageId] }
        for id in gatewayIds {
            #expect(id.utf8.count == 16 && id.hasSuffix("=") && Data(base64Encoded: id)?.count == 11, "\(id)")
        }
        #expect(Set(gatewayIds).count == gatewayIds.count)
        let lambdaIds = messages.map(\.lambdaRequestId)
        for id in lambdaIds {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id && uuid.uuid.6 >> 4 == 4, "\(id)")
        }
        #expect(Set(lambdaIds).count == lambdaIds.count)
    }

    @Test("requestTime is API Gateway's dd/MMM/yyyy:HH:mm:ss +0000 in UTC, as a DateFormatter writes it")
    func requestTime() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        #expect(AWSIdentifiers.requestTime(Date(timeIntervalSince1970: 1_764_000_000.999)) == "24/Nov/2025:16:00:00 +0000")
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, 59.5, 86_399.999, 86_400, 951_782_400, 951_868_800, 4_107_542_400, 1_709_164_800]
        let dates = fixed + (0..<2000).map { _ in TimeInterval(Int64.random(in: 0...4_102_444_800, using: &generator)) + 0.25 }
        for seconds in dates {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(AWSIdentifiers.requestTime(date) == formatter.string(from: date), "\(seconds)")
        }
    }

    @Test("a structured 2.0 result becomes status, headers, cookies and body")
    func structuredProxyResponse() {
        let result: JSONValue = .object([
            "statusCode": .number(418), "headers": .object(["X-Teapot": .string("yes")]),
            "cookies": .array([.string("a=1"), .string("b=2")]), "body": .string("short and stout"),
        ])
        let response = Stage.proxyResponse(result)
        #expect(response.status.code == 418)
        #expect(response.headers[values: .setCookie] == ["a=1", "b=2"])
        #expect(response.headers[.init("X-Teapot")!] == "yes")
    }

    @Test("any other JSON result is a 200 JSON body, as HTTP APIs allow")
    func bareProxyResponse() {
        let response = Stage.proxyResponse(.object(["hello": .string("world")]))
        #expect(response.status.code == 200)
        #expect(response.headers[.contentType] == "application/json")
    }

    @Test("the registry gives each connection's removal to exactly one caller")
    func removalOnce() {
        let registry = ConnectionRegistry()
        let connection = LiveConnection(id: "A", outbound: nil, connectedAt: Date(), sourceIp: "127.0.0.1", userAgent: nil)
        registry.add(connection)
        let first = registry.remove("A")
        let second = registry.remove("A")
        #expect(first == .some(nil))
        #expect(second == .none)
    }

    @Test("concurrent removals and closes of one connection: one removal wins, and it carries the stage's cause")
    func concurrentRemoval() async {
        let registry = ConnectionRegistry()
        for round in 0..<200 {
            let id = "C\(round)"
            registry.add(LiveConnection(id: id, outbound: nil, connectedAt: Date(), sourceIp: "127.0.0.1", userAgent: nil))
            _ = registry.beginClose(id, cause: .idle)
            let removals = await withTaskGroup(of: DisconnectCause??.self) { group in
                for _ in 0..<8 { group.addTask { registry.remove(id) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(removals.filter { $0 != .none } == [.some(.idle)], "round \(round)")
        }
        #expect(registry.count == 0)
    }

    @Test("idle and hard timeouts pick the right connections")
    func expiry() {
        let registry = ConnectionRegistry()
        let now = Date()
        registry.add(LiveConnection(id: "old", outbound: nil, connectedAt: now.addingTimeInterval(-8000), sourceIp: "1", userAgent: nil))
        registry.add(LiveConnection(id: "fresh", outbound: nil, connectedAt: now, sourceIp: "1", userAgent: nil))
        let expired = registry.expired(idleCutoff: now.addingTimeInterval(-600), hardCutoff: now.addingTimeInterval(-7200))
        #expect(expired.map(\.0) == ["old"])
        #expect(expired.first?.1 == .hardLimit)
    }
}
