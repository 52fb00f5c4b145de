import Foundation
@testable import Handlers
import PropertyBased
import Testing

/// The hand-written envelope decoding and encoding against the `Codable` conformances they stand
/// in for: the same values, the same bytes, and the same field named when an event is refused.
@Suite("Envelope decoding and encoding")
struct EnvelopeCodingTests {
    /// The fixtures that are Lambda events (not expectations), parsed, with their file names.
    static var fixtureEvents: [(name: String, json: JSONValue)] {
        JSONValueParsingTests.eventFiles.filter { !$0.lastPathComponent.hasSuffix(".expected.json") }.compactMap { file in
            guard let bytes = try? Data(contentsOf: file), let json = try? JSONValue(parsing: bytes) else { return nil }
            return (file.lastPathComponent, json)
        }
    }

    static func isWebSocketEvent(_ json: JSONValue) -> Bool {
        json["requestContext"]?["eventType"] != nil
    }

    /// How `AnyLambdaFunction` words the refusal of `json` read by hand, and read through `Decodable`.
    static func refusals<T: JSONValueDecodable & Decodable>(_ json: JSONValue, as _: T.Type) -> (byHand: String?, codable: String?) {
        let bytes = json.jsonBytes
        var byHand: String?
        var codable: String?
        do { _ = try T(jsonBytes: bytes) } catch { byHand = DecodingErrorSummary(error).description }
        do { _ = try JSONDecoder().decode(T.self, from: Data(bytes)) } catch { codable = DecodingErrorSummary(error).description }
        return (byHand, codable)
    }

    @Test("every fixture event decodes by hand to what JSONDecoder decodes")
    func fixturesDecodeLikeJSONDecoder() throws {
        let events = Self.fixtureEvents
        #expect(events.count > 50)
        for (name, json) in events {
            let bytes = json.jsonBytes
            if Self.isWebSocketEvent(json) {
                #expect(try WebSocketEvent(json: json) == JSONDecoder().decode(WebSocketEvent.self, from: Data(bytes)), "\(name)")
            } else {
                #expect(try HTTPRouteRequest(json: json) == JSONDecoder().decode(HTTPRouteRequest.self, from: Data(bytes)), "\(name)")
                if json["version"]?.stringValue == "2.0" {
                    let event = try APIGatewayV2Request(json: json)
                    #expect(event == (try JSONDecoder().decode(APIGatewayV2Request.self, from: Data(bytes))), "\(name)")
                    #expect(event.jsonBytes == Array(try JSONCoding.encoder.encode(event)), "\(name)")
                }
            }
        }
    }

    @Test("every fixture WebSocket event is written by hand as JSONEncoder writes it")
    func webSocketEventsEncodeLikeJSONEncoder() throws {
        for (name, json) in Self.fixtureEvents where Self.isWebSocketEvent(json) {
            let event = try WebSocketEvent(json: json)
            #expect(event.jsonBytes == Array(try JSONCoding.encoder.encode(event)), "\(name)")
        }
    }

    @Test("WebSocketEvent.jsonBytes writes what JSONEncoder writes, for random events")
    func webSocketEventBytesOnRandomEvents() throws {
        var random = SystemRandomNumberGenerator()
        // Keys and values with what the writer escapes, non-ASCII text, and keys that sort by their bytes.
        let pieces = ["a", "Z", "é", "\"", "\\", "/", "\n", "\u{01}", "\u{1F600}", "x-Api-Key", "Host", "_", "0", " "]
        func text() -> String { (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() }
        func maybe<T>(_ make: () -> T) -> T? { Bool.random(using: &random) ? make() : nil }
        func strings() -> [String: String] { Dictionary((0..<Int.random(in: 0...4, using: &random)).map { _ in (text(), text()) }) { a, _ in a } }
        func lists() -> [String: [String]] { strings().mapValues { [$0, text()] } }
        for round in 0..<500 {
            var context = WebSocketEvent.RequestContext(
                routeKey: text(), eventType: [.connect, .message, .disconnect].randomElement(using: &random)!, connectionId: text(),
                messageId: maybe(text), domainName: maybe(text), stage: maybe(text), apiId: maybe(text), requestId: maybe(text),
                extendedRequestId: maybe(text), requestTime: maybe(text), requestTimeEpoch: maybe { Int64.random(in: 0...(1 << 50), using: &random) },
                connectedAt: maybe { Int64.random(in: -(1 << 40)...(1 << 50), using: &random) },
                identity: maybe { .init(sourceIp: maybe(text), userAgent: maybe(text)) },
                disconnectStatusCode: maybe { Int.random(in: 1000...4999, using: &random) }, disconnectReason: maybe(text))
            context.messageDirection = maybe(text)
            context.authorizer = maybe { ["principalId": .string(text()), "n": .number(1.5), "list": .array([.bool(true), .null])] }
            let event = WebSocketEvent(
                requestContext: context, headers: maybe(strings), multiValueHeaders: maybe(lists), queryStringParameters: maybe(strings),
                multiValueQueryStringParameters: maybe(lists), body: maybe(text), isBase64Encoded: Bool.random(using: &random))
            #expect(event.jsonBytes == Array(try JSONCoding.encoder.encode(event)), "round \(round)")
        }
    }

    @Test("a WebSocket response is written by hand as JSONEncoder writes it, nil fields omitted")
    func webSocketResponseEncodesLikeJSONEncoder() throws {
        for response in [WebSocketResponse(statusCode: 403, headers: ["x": "y"], body: nil), WebSocketResponse(statusCode: 200, body: "{\"a\":\"/\"}")] {
            #expect(response.jsonBytes == Array(try JSONCoding.encoder.encode(response)))
        }
    }

    @Test("a v1 response keeps the shape the Codable response types give it")
    func v1ResponseShape() throws {
        let response = HTTPRouteResponse(statusCode: 200, headers: HeaderFields(["A": "1"]), body: "ok", format: .v1)
        let expected = APIGatewayResponse(statusCode: 200, headers: ["A": "1"], multiValueHeaders: ["A": ["1"]], body: "ok", isBase64Encoded: false)
        #expect(response.jsonBytes == Array(try JSONCoding.encoder.encode(expected)))
    }

    @Test("a v2 response keeps the shape the Codable response types give it")
    func v2ResponseShape() throws {
        let response = HTTPRouteResponse(statusCode: 201, headers: HeaderFields(), body: "", format: .v2)
        let expected = APIGatewayV2Response(statusCode: 201, headers: [:], body: "", isBase64Encoded: false)
        #expect(response.jsonBytes == Array(try JSONCoding.encoder.encode(expected)))
    }

    @Test("HTTPRouteResponse.jsonBytes writes what JSONEncoder writes for its envelope, in both payload formats, for random responses")
    func httpResponseBytesOnRandomResponses() throws {
        var random = SystemRandomNumberGenerator()
        let pieces = ["a", "Z", "é", "\"", "\\", "/", "\n", "\u{01}", "\u{1F600}", "Content-Type", "content-type", "_", "0", " "]
        func text() -> String { (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() }
        for round in 0..<500 {
            // Repeated names (of any case) included: later values win, as in `headers.dictionary`.
            let fields = (0..<Int.random(in: 0...5, using: &random)).map { _ in (text(), text()) }
            let response = HTTPRouteResponse(statusCode: Int.random(in: 100...599, using: &random), headers: HeaderFields(fields), body: text(),
                                        format: Bool.random(using: &random) ? .v1 : .v2)
            #expect(response.jsonBytes == Array(try JSONCoding.encoder.encode(response)), "round \(round)")
        }
    }

    @Test("a function's HTTP response is encoded as its bytes written directly")
    func functionOutputIsDirectBytes() throws {
        let response = HTTPRouteResponse(statusCode: 200, headers: HeaderFields([("B", "2"), ("A", "1")]), body: "{\"ok\":true}")
        #expect(try ChatFunction.outputEncoder.encode(response) == Array(try JSONCoding.encoder.encode(response)))
    }

    @Test("a refused event names the same field whichever decoder refused it", arguments: [
        (#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE"}}"#, "missing `connectionId` at `requestContext`"),
        (#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE","connectionId":7}}"#, "wrong type at `requestContext.connectionId`"),
        (#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE","connectionId":null}}"#, "wrong type at `requestContext.connectionId`"),
        (#"{"requestContext":{"routeKey":"$default","eventType":"OPEN","connectionId":"c"}}"#, "invalid value at `requestContext.eventType`"),
        (#"{"requestContext":{"routeKey":"r","eventType":"MESSAGE","connectionId":"c","identity":{"sourceIp":1}}}"#,
         "wrong type at `requestContext.identity.sourceIp`"),
        (#"{"requestContext":{"routeKey":"r","eventType":"MESSAGE","connectionId":"c"},"multiValueHeaders":{"a":["x",2]}}"#,
         "wrong type at `multiValueHeaders.a.1`"),
        (#"{"requestContext":"x"}"#, "wrong type at `requestContext`"),
        (#"[]"#, "wrong type at the top level"),
        (#"{}"#, "missing `requestContext` at the top level"),
    ])
    func webSocketRefusalsMatchCodable(text: String, expected: String) throws {
        let (byHand, codable) = Self.refusals(try JSONValue(parsing: text), as: WebSocketEvent.self)
        #expect(byHand == expected)
        #expect(codable == expected)
    }

    @Test("a fraction where an integer belongs is named, where JSONDecoder only says the JSON is invalid")
    func fractionalIntegerIsNamed() throws {
        let event = #"{"requestContext":{"routeKey":"r","eventType":"MESSAGE","connectionId":"c","requestTimeEpoch":1.5}}"#
        let (byHand, codable) = Self.refusals(try JSONValue(parsing: event), as: WebSocketEvent.self)
        #expect(byHand == "invalid value at `requestContext.requestTimeEpoch`")
        #expect(codable == "not valid JSON")
    }

    @Test("a refused HTTP event names the same field whichever decoder refused it", arguments: [
        (#"{"version":"2.0","requestContext":{"http":{}}}"#, "missing `method` at `requestContext.http`"),
        (#"{"version":"2.0","requestContext":{"http":{"method":"GET"}},"headers":{"a":1}}"#, "wrong type at `headers.a`"),
        (#"{"version":"2.0","requestContext":{"http":{"method":"GET"}},"isBase64Encoded":"no"}"#, "wrong type at `isBase64Encoded`"),
        (#"{"httpMethod":"GET","version":"1.0","requestContext":{"requestTimeEpoch":"now"}}"#, "wrong type at `requestContext.requestTimeEpoch`"),
        (#"{"httpMethod":5}"#, "wrong type at `httpMethod`"),
        (#"{"requestContext":{"http":{"method":"GET"}}}"#, "missing `version` at the top level"),
    ])
    func httpRefusalsMatchCodable(text: String, expected: String) throws {
        let (byHand, codable) = Self.refusals(try JSONValue(parsing: text), as: HTTPRouteRequest.self)
        #expect(byHand == expected)
        #expect(codable == expected)
    }

    @Test("invalid JSON is reported as it always was")
    func invalidJSONIsReportedAsBefore() {
        #expect(throws: JSONValueDecodingError.self) { try WebSocketEvent(jsonBytes: Array("{\"requestContext\":".utf8)) }
        #expect(DecodingErrorSummary(JSONValueDecodingError.invalidJSON(JSONParseError(reason: "x", offset: 0))).description == "not valid JSON")
    }

    @Test("fixture events with one field removed or retyped are refused or accepted exactly as JSONDecoder does")
    func damagedFixturesMatchCodable() async throws {
        let events = Self.fixtureEvents
        await propertyCheck(input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var random = Xoshiro(propertySeed: seed)
            let (name, json) = events[random.below(events.count)]
            let damaged = random.damage(json)
            if Self.isWebSocketEvent(json) {
                let (byHand, codable) = Self.refusals(damaged, as: WebSocketEvent.self)
                #expect(byHand == codable, "\(name): \(damaged.jsonString)")
            } else {
                let (byHand, codable) = Self.refusals(damaged, as: HTTPRouteRequest.self)
                #expect(byHand == codable, "\(name): \(damaged.jsonString)")
            }
        }
    }

    @Test("a malformed event fails the invocation with Runtime.MalformedEvent naming the field")
    func malformedEventFailsTheInvocation() async throws {
        let harness = try await Harness()
        let function = AnyLambdaFunction(.sendMessage, SendMessageFunction(dependencies: harness.dependencies))
        let event = #"{"requestContext":{"routeKey":"sendMessage","eventType":"MESSAGE","connectionId":42}}"#
        await #expect(throws: InvocationError.malformedEvent("sendMessage could not decode the event: wrong type at `requestContext.connectionId`")) {
            _ = try await function.invoke(Array(event.utf8), context: harness.context)
        }
    }

    @Test("a chat body of the wrong shape is refused naming the field, as before")
    func chatBodyRefusalNamesTheField() async throws {
        let harness = try await Harness()
        let response = try await harness.chat(#"{"widget_id":"widget_demo_localhost","conversation_id":"c","messages":[{"role":"robot","content":"x"}]}"#)
        #expect(response.status == 400)
        #expect(response.body?["message"]?.stringValue == "The request body is not valid chat JSON: invalid value at `messages.0.role`.")
    }
}

extension Xoshiro {
    /// `value` with one object member somewhere inside removed or replaced by a value of another
    /// JSON type.
    mutating func damage(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var members) where !members.isEmpty:
            let key = members.keys.sorted()[below(members.count)]
            switch below(4) {
            case 0: members[key] = nil
            case 1: members[key] = damage(members[key] ?? .null)
            case 2: members[key] = damage(members[key] ?? .null)
            default: members[key] = [JSONValue.null, .bool(true), .number(-3), .number(7), .string("x"), .array([]), .object([:])][below(7)]
            }
            return .object(members)
        case .array(var elements) where !elements.isEmpty:
            let index = below(elements.count)
            elements[index] = damage(elements[index])
            return .array(elements)
        default:
            return [JSONValue.null, .bool(false), .number(2), .string("y"), .array([.number(1)]), .object([:])][below(6)]
        }
    }
}
