import Foundation
@testable import Handlers
import Testing

/// Every event fixture decoded and written back, compared with outputs committed in
/// `Tests/Fixtures/envelope-golden.txt`: whatever produces the envelope coding, the values it decodes and
/// the bytes it writes stay these. `ENVELOPE_GOLDEN_UPDATE=1 swift test --filter EnvelopeGoldenTests`
/// rewrites the file, for a change that means to alter them.
@Suite("Envelope golden outputs")
struct EnvelopeGoldenTests {
    static let goldenFile = JSONValueParsingTests.repository.appendingPathComponent("Tests/Fixtures/envelope-golden.txt")
    static let extraFixtures = JSONValueParsingTests.repository.appendingPathComponent("Tests/Fixtures/Envelopes")

    /// The event fixtures (not expectations) in events/ and the field-by-field fixtures in Tests/Fixtures/Envelopes.
    static var fixtures: [(name: String, bytes: [UInt8])] {
        let events = JSONValueParsingTests.eventFiles.filter { !$0.lastPathComponent.hasSuffix(".expected.json") }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: extraFixtures.path)) ?? []).sorted()
        let extra = names.filter { $0.hasSuffix(".json") }.map { extraFixtures.appendingPathComponent($0) }
        return (events + extra).compactMap { file in
            guard let data = try? Data(contentsOf: file) else { return nil }
            let name = file.deletingLastPathComponent().lastPathComponent + "/" + file.lastPathComponent
            return (name, Array(data))
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// What an `HTTPRouteRequest` holds, as JSON.
    static func describe(_ request: HTTPRouteRequest) -> JSONValue {
        var object: [String: JSONValue] = [
            "format": .string(request.format.rawValue), "method": .string(request.method), "path": .string(request.path),
            "headers": request.headers.dictionary.jsonValue, "queryParameters": request.queryParameters.jsonValue,
            "pathParameters": request.pathParameters.jsonValue, "sourceIp": .string(request.sourceIp),
            "requestId": .string(request.requestId), "isBase64Encoded": .bool(request.isBase64Encoded),
        ]
        object.set("userAgent", request.userAgent)
        object.set("timeEpochMillis", request.timeEpochMillis)
        object.set("body", request.body)
        return .object(object)
    }

    /// One fixture decoded every way the package decodes it, checked to agree, and written back.
    static func record(_ bytes: [UInt8], name: String) throws -> String {
        let json = try JSONValue(parsing: bytes)
        if EnvelopeCodingTests.isWebSocketEvent(json) {
            let event = try WebSocketEvent(readingJSON: bytes)
            #expect(try SendMessageFunction.eventDecoder.decode(bytes) == event, "\(name)")
            #expect(try WebSocketEvent(jsonBytes: bytes) == event, "\(name)")
            #expect(try JSONDecoder().decode(WebSocketEvent.self, from: Data(bytes)) == event, "\(name)")
            let written = Array(try JSONCoding.encoder.encode(event))
            #expect(event.jsonBytes == written, "\(name)")
            return "websocket " + text(written)
        }
        let request = try HTTPRouteRequest(readingJSON: bytes)
        #expect(try ChatFunction.eventDecoder.decode(bytes) == request, "\(name)")
        #expect(try HTTPRouteRequest(jsonBytes: bytes) == request, "\(name)")
        #expect(try JSONDecoder().decode(HTTPRouteRequest.self, from: Data(bytes)) == request, "\(name)")
        let envelope: [UInt8]
        if request.format == .v1 {
            let event = try APIGatewayRequest(jsonBytes: bytes)
            #expect(try JSONDecoder().decode(APIGatewayRequest.self, from: Data(bytes)) == event, "\(name)")
            envelope = Array(try JSONCoding.encoder.encode(event))
            #expect(event.jsonBytes == envelope, "\(name)")
        } else {
            let event = try APIGatewayV2Request(jsonBytes: bytes)
            #expect(try JSONDecoder().decode(APIGatewayV2Request.self, from: Data(bytes)) == event, "\(name)")
            if json["httpMethod"] == nil {
                #expect(try APIGatewayV2Request(readingJSON: bytes) == event, "\(name)")
            }
            envelope = Array(try JSONCoding.encoder.encode(event))
            #expect(event.jsonBytes == envelope, "\(name)")
        }
        return "http " + describe(request).jsonString + " " + text(envelope)
    }

    /// Responses with every field set and with every optional one absent, written every way.
    static func responseRecords() throws -> [String] {
        let webSocket = [WebSocketResponse(statusCode: 200, headers: ["x-a": "1", "X-b": "/"], body: "{\"é\":\"\\n\"}"),
                         WebSocketResponse(statusCode: 403)]
        let v2 = [APIGatewayV2Response(statusCode: 201, headers: ["a": "1"], multiValueHeaders: ["a": ["1", "2"]], cookies: ["c=1"],
                                       body: "b", isBase64Encoded: true),
                  APIGatewayV2Response(statusCode: 204, headers: nil, multiValueHeaders: nil, cookies: nil, body: nil, isBase64Encoded: nil)]
        let v1 = [APIGatewayResponse(statusCode: 200, headers: ["a": "1"], multiValueHeaders: ["a": ["1"]], body: "b", isBase64Encoded: false),
                  APIGatewayResponse(statusCode: 500, headers: nil, multiValueHeaders: nil, body: nil, isBase64Encoded: nil)]
        let http = [HTTPRouteResponse(statusCode: 200, headers: HeaderFields([("B", "2"), ("A", "1")]), body: "{\"ok\":true}", format: .v2),
                    HTTPRouteResponse(statusCode: 429, headers: HeaderFields([("Retry-After", "3")]), body: "", format: .v1)]
        var records: [String] = []
        for response in webSocket {
            let written = Array(try JSONCoding.encoder.encode(response))
            #expect(response.jsonBytes == written)
            #expect(try SendMessageFunction.outputEncoder.encode(response) == written)
            records.append("response/websocket " + text(written))
        }
        for response in v2 {
            let written = Array(try JSONCoding.encoder.encode(response))
            #expect(response.jsonBytes == written)
            records.append("response/v2 " + text(written))
        }
        for response in v1 {
            let written = Array(try JSONCoding.encoder.encode(response))
            #expect(response.jsonBytes == written)
            records.append("response/v1 " + text(written))
        }
        for response in http {
            #expect(response.jsonBytes == Array(try JSONCoding.encoder.encode(response)))
            #expect(try ChatFunction.outputEncoder.encode(response) == response.jsonBytes)
            records.append("response/http " + text(response.jsonBytes))
        }
        return records
    }

    static func golden() throws -> String {
        var lines = try fixtures.map { "\($0.name)\t" + (try record($0.bytes, name: $0.name)) }
        lines += try responseRecords()
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("every fixture decodes and is written back as the committed golden outputs")
    func fixturesMatchGolden() throws {
        let actual = try Self.golden()
        if ProcessInfo.processInfo.environment["ENVELOPE_GOLDEN_UPDATE"] == "1" {
            try actual.write(to: Self.goldenFile, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: Self.goldenFile, encoding: .utf8)
        #expect(Self.fixtures.count > 60)
        let actualLines = actual.split(separator: "\n"), expectedLines = expected.split(separator: "\n")
        #expect(actualLines.count == expectedLines.count)
        for (got, want) in zip(actualLines, expectedLines) {
            #expect(got == want)
        }
    }

    @Test("the generated envelope files are what scripts/generate-envelopes writes from its schema")
    func generatedFilesAreUpToDate() throws {
        let generator = Process()
        generator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generator.arguments = ["python3", JSONValueParsingTests.repository.appendingPathComponent("scripts/generate-envelopes").path, "--check"]
        let errors = Pipe()
        generator.standardError = errors
        try generator.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        generator.waitUntilExit()
        #expect(generator.terminationStatus == 0, "\(message)")
    }
}
