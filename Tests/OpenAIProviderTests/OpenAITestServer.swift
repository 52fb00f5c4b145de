import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport

/// The scripted OpenAI-compatible server of Tests/Integration/openai_test_server.py, run as a child
/// process for the duration of one test.
struct OpenAITestServer: Sendable {
    /// One request the server received.
    struct Received: Decodable, Sendable {
        var path: String
        var authorization: String?
        var body: Body?
        /// Seconds on the server's monotonic clock.
        var time: Double

        struct Body: Decodable, Sendable {
            var model: String?
            var messages: [Message]?
            var temperature: Double?
            var maxTokens: Int?
            var stream: Bool?

            enum CodingKeys: String, CodingKey {
                case model, messages, temperature, stream
                case maxTokens = "max_tokens"
            }
        }

        struct Message: Decodable, Sendable, Equatable {
            var role: String
            var content: String
        }
    }

    static let apiKey = "test-key"
    let port: Int

    func baseURL(_ scenario: String) -> String { "http://127.0.0.1:\(port)/\(scenario)/v1" }

    func received() async throws -> [Received] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/_requests"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 22)
        return try JSONDecoder().decode([Received].self, from: Data(body.readableBytesView))
    }

    /// Runs `body` with a fresh server and stops the server afterwards, whatever happens.
    static func with<T>(_ body: (OpenAITestServer) async throws -> T) async throws -> T {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Integration/openai_test_server.py")
        return try await PythonHelper.run(script: script) { line in
            guard let port = Int(line) else { throw PythonHelper.DidNotStart(script: script.lastPathComponent) }
            return try await body(OpenAITestServer(port: port))
        }
    }
}
