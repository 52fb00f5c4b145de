import Foundation
@testable import Handlers
import PropertyBased
import Testing

/// The direct event reader against the tree decoding it stands in for: whatever it accepts it reads
/// to the tree's value, it accepts no document the tree refuses, and what it declines still
/// decodes (or is refused) exactly as through the tree.
@Suite("JSONReader")
struct JSONReaderTests {
    /// The fixture events as their files hold them: the reader sees the recorded bytes, key order and whitespace included.
    static var fixtureBytes: [(name: String, bytes: [UInt8], json: JSONValue)] {
        JSONValueParsingTests.eventFiles.filter { !$0.lastPathComponent.hasSuffix(".expected.json") }.compactMap { file in
            guard let data = try? Data(contentsOf: file), let json = try? JSONValue(parsing: data) else { return nil }
            return (file.lastPathComponent, Array(data), json)
        }
    }

    /// The reader's value for `bytes`, or nil when it declines them.
    static func read<T: JSONReadable>(_ bytes: [UInt8], as type: T.Type) -> T? {
        bytes.withUnsafeBufferPointer { JSONReader.read(type, from: $0) }
    }

    /// Checks that `bytes` read as `T` the tree's way: when the reader accepts, the tree gives the same
    /// value; `init(readingJSON:)` always gives the tree's value or the tree's refusal, worded alike.
    static func expectAgreement<T: JSONBytesDecodable & Equatable>(_ bytes: [UInt8], as type: T.Type, _ comment: Comment,
                                                                    sourceLocation: SourceLocation = #_sourceLocation) {
        let tree = Result { () throws(JSONValueDecodingError) in try T(jsonBytes: bytes) }
        if let direct = read(bytes, as: type) {
            if case .success(let value) = tree {
                #expect(value == direct, comment, sourceLocation: sourceLocation)
            } else {
                Issue.record("the reader accepted what the tree refuses: \(comment)", sourceLocation: sourceLocation)
            }
        }
        let combined = Result { () throws(JSONValueDecodingError) in try T(readingJSON: bytes) }
        switch (combined, tree) {
        case (.success(let combined), .success(let tree)): #expect(combined == tree, comment, sourceLocation: sourceLocation)
        case (.failure(let combined), .failure(let tree)): #expect(combined.description == tree.description, comment, sourceLocation: sourceLocation)
        default: Issue.record("reading and the tree disagree on \(comment): \(combined) against \(tree)", sourceLocation: sourceLocation)
        }
    }

    static let webSocketEvent = #"{"requestContext":{"routeKey":"sendMessage","eventType":"MESSAGE","connectionId":"abc="},"body":"hi"}"#
    static let httpEvent = #"{"version":"2.0","rawPath":"/api/chat","requestContext":{"http":{"method":"POST"}},"body":"{}"}"#

    @Test("every fixture event but the REST (1.0) one is read directly, to what the tree decodes")
    func fixturesAreReadDirectly() throws {
        let fixtures = Self.fixtureBytes
        #expect(fixtures.count > 50)
        for (name, bytes, json) in fixtures {
            if EnvelopeCodingTests.isWebSocketEvent(json) {
                #expect(Self.read(bytes, as: WebSocketEvent.self) == (try WebSocketEvent(json: json)), "\(name)")
            } else if json["httpMethod"] != nil {
                #expect(Self.read(bytes, as: HTTPRouteRequest.self) == nil, "\(name): payload 1.0 is left to the tree")
                #expect(try HTTPRouteRequest(readingJSON: bytes).format == .v1, "\(name)")
            } else {
                #expect(Self.read(bytes, as: HTTPRouteRequest.self) == (try HTTPRouteRequest(json: json)), "\(name)")
            }
        }
    }

    @Test("fixture events with one field removed or retyped read as the tree decodes them, or are refused alike")
    func damagedFixturesAgree() async throws {
        let fixtures = Self.fixtureBytes
        await propertyCheck(input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var random = Xoshiro(propertySeed: seed)
            let (name, _, json) = fixtures[random.below(fixtures.count)]
            let damaged = random.damage(json)
            if EnvelopeCodingTests.isWebSocketEvent(json) {
                Self.expectAgreement(damaged.jsonBytes, as: WebSocketEvent.self, "\(name): \(damaged.jsonString)")
            } else {
                Self.expectAgreement(damaged.jsonBytes, as: HTTPRouteRequest.self, "\(name): \(damaged.jsonString)")
            }
        }
    }

    @Test("of repeated keys the first is read and the later ones are only checked as JSON", arguments: [
        #"{"requestContext":{"routeKey":"sendMessage","eventType":"MESSAGE","connectionId":"first"},"body":"a","body":7}"#,
        #"{"requestContext":{"routeKey":"sendMessage","eventType":"MESSAGE","connectionId":"first","connectionId":"second"}}"#,
        #"{"requestContext":{"routeKey":"sendMessage","eventType":"MESSAGE","connectionId":"c"},"body":null,"body":"later"}"#,
        #"{"requestContext":{"routeKey":"r","eventType":"MESSAGE","connectionId":"c"},"headers":{"Origin":"a","Origin":5}}"#,
        #"{"requestContext":{"routeKey":"r","eventType":"MESSAGE","connectionId":"c"},"body":"a","body":[1,]}"#,
        #"{"requestContext":{"routeKey":"r","eventType":"MESSAGE","connectionId":"c"},"requestContext":5}"#,
    ])
    func repeatedKeysKeepTheFirst(event: String) {
        Self.expectAgreement(Array(event.utf8), as: WebSocketEvent.self, "\(event)")
    }

    @Test("a key written with escapes is declined and still decodes through the tree")
    func escapedKeysFallBack() throws {
        let event = #"{"request\u0043ontext":{"routeKey":"sendMessage","eventType":"MESSAGE","connectionId":"c"},"b\u006fdy":"hi"}"#
        #expect(Self.read(Array(event.utf8), as: WebSocketEvent.self) == nil)
        #expect(try WebSocketEvent(readingJSON: Array(event.utf8)).body == "hi")
        Self.expectAgreement(Array(event.utf8), as: WebSocketEvent.self, "escaped keys")
    }

    @Test("whatever the tree refuses, the reader declines, and the refusal reads as the tree's", arguments: [
        webSocketEvent + " x",
        String(webSocketEvent.dropLast()),
        webSocketEvent.replacingOccurrences(of: #""body":"hi""#, with: #""extra":[1,],"body":"hi""#),
        webSocketEvent.replacingOccurrences(of: #""body":"hi""#, with: #""extra":"\ud800","body":"hi""#),
        webSocketEvent.replacingOccurrences(of: #""body":"hi""#, with: #""extra":01,"body":"hi""#),
        webSocketEvent.replacingOccurrences(of: #""body":"hi""#, with: #""extra":\#(String(repeating: "[", count: 600))\#(String(repeating: "]", count: 600)),"body":"hi""#),
        webSocketEvent.replacingOccurrences(of: #""connectionId":"abc=""#, with: #""connectionId":null"#),
        webSocketEvent.replacingOccurrences(of: #""eventType":"MESSAGE""#, with: #""eventType":"message""#),
        #"{"requestContext":5,"body":"hi"}"#,
    ])
    func refusedDocumentsAreDeclined(event: String) {
        #expect(Self.read(Array(event.utf8), as: WebSocketEvent.self) == nil)
        Self.expectAgreement(Array(event.utf8), as: WebSocketEvent.self, "\(event)")
    }

    @Test("surrounding whitespace and a byte order mark are read as the tree reads them")
    func documentEdges() throws {
        let padded = Array(" \n\t".utf8) + Array(Self.httpEvent.utf8) + Array("\r\n ".utf8)
        #expect(Self.read(padded, as: HTTPRouteRequest.self) != nil)
        Self.expectAgreement(padded, as: HTTPRouteRequest.self, "padded")
        let marked = [0xEF, 0xBB, 0xBF] + Array(Self.httpEvent.utf8)
        #expect(Self.read(marked, as: HTTPRouteRequest.self) != nil)
        Self.expectAgreement(marked, as: HTTPRouteRequest.self, "byte order mark")
    }

    @Test("an event with httpMethod is left to the tree unless its version is 2.0", arguments: [
        (#"{"httpMethod":"POST","path":"/api/chat","body":"{}"}"#, HTTPRouteRequest.PayloadFormat.v1, false),
        (#"{"version":"1.0","httpMethod":"POST","path":"/api/chat","requestContext":{"http":{"method":"POST"}}}"#, .v1, false),
        (#"{"version":"2.0","httpMethod":"GET","requestContext":{"http":{"method":"POST"}}}"#, .v2, true),
    ])
    func payloadFormatIsTheTrees(event: String, format: HTTPRouteRequest.PayloadFormat, readDirectly: Bool) throws {
        #expect((Self.read(Array(event.utf8), as: HTTPRouteRequest.self) != nil) == readDirectly)
        #expect(try HTTPRouteRequest(readingJSON: Array(event.utf8)).format == format)
        Self.expectAgreement(Array(event.utf8), as: HTTPRouteRequest.self, "\(event)")
    }

    @Test("integers are read only when exact, as the tree reads them", arguments: ["1764000200000", "1.5", "1e3", "-0", "9007199254740993", "1e400"])
    func integerFields(number: String) {
        let event = #"{"requestContext":{"routeKey":"r","eventType":"MESSAGE","connectionId":"c","requestTimeEpoch":"# + number + "}}"
        Self.expectAgreement(Array(event.utf8), as: WebSocketEvent.self, "\(number)")
    }
}
