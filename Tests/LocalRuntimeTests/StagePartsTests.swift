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
    func removalOnce() async {
        let registry = ConnectionRegistry()
        let connection = LiveConnection(id: "A", outbound: nil, connectedAt: Date(), sourceIp: "127.0.0.1", userAgent: nil)
        await registry.add(connection)
        let first = await registry.remove("A")
        let second = await registry.remove("A")
        #expect(first == .some(nil))
        #expect(second == .none)
    }

    @Test("idle and hard timeouts pick the right connections")
    func expiry() async {
        let registry = ConnectionRegistry()
        let now = Date()
        await registry.add(LiveConnection(id: "old", outbound: nil, connectedAt: now.addingTimeInterval(-8000), sourceIp: "1", userAgent: nil))
        await registry.add(LiveConnection(id: "fresh", outbound: nil, connectedAt: now, sourceIp: "1", userAgent: nil))
        let expired = await registry.expired(idleCutoff: now.addingTimeInterval(-600), hardCutoff: now.addingTimeInterval(-7200))
        #expect(expired.map(\.0) == ["old"])
        #expect(expired.first?.1 == .hardLimit)
    }
}
