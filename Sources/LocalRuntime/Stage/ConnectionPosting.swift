import ArgumentParser
import Foundation
import Handlers
import ManagementAPIClient
import Hummingbird
import NIOCore
import WSCore

/// API Gateway's `@connections/{connectionId}` POST: the one implementation of its limits and
/// answers, shared by the stage (its HTTP management API and the in-process reply path) and by
/// replay (its in-process poster and the endpoint that `bootstrap` processes post to), so that all
/// of them refuse and deliver alike.
///
/// A message above `maxMessageBytes` is refused before delivery (413 PayloadTooLargeException); a
/// message to a connection that is not open is refused (410 GoneException).
struct ConnectionPosting: Sendable {
    enum Outcome: Sendable, Equatable {
        case posted
        /// The connection is not open (API Gateway's 410 GoneException).
        case gone
        /// Above the 128 KB message limit (413 PayloadTooLargeException).
        case tooLarge
    }

    /// API Gateway's limit on one WebSocket message, which a `@connections` POST body is.
    static let defaultMaxMessageBytes = 128 * 1024

    let maxMessageBytes: Int
    /// Hands a message within the limit to the connection; false when that connection is not open.
    let deliver: @Sendable (_ bytes: [UInt8], _ connectionId: String) async -> Bool

    init(maxMessageBytes: Int = Self.defaultMaxMessageBytes, deliver: @escaping @Sendable (_ bytes: [UInt8], _ connectionId: String) async -> Bool) {
        self.maxMessageBytes = maxMessageBytes
        self.deliver = deliver
    }

    /// Delivery to the stage's open WebSocket connections: text when the bytes are UTF-8, else binary.
    init(registry: ConnectionRegistry, maxMessageBytes: Int) {
        self.init(maxMessageBytes: maxMessageBytes) { bytes, connectionId in
            guard let writer = registry.writer(connectionId) else { return false }
            do {
                if let text = String(validating: bytes, as: UTF8.self) {
                    try await writer.write(.text(text))
                } else {
                    try await writer.write(.binary(ByteBuffer(bytes: bytes)))
                }
            } catch {
                return false
            }
            registry.touch(connectionId)
            return true
        }
    }

    func post(_ bytes: [UInt8], to connectionId: String) async -> Outcome {
        guard bytes.count <= maxMessageBytes else { return .tooLarge }
        return await deliver(bytes, connectionId) ? .posted : .gone
    }

    /// The same as a `ConnectionPoster` would see it: nothing, or the error the deployed
    /// `HTTPConnectionPoster` throws for that answer.
    func postOrThrow(_ bytes: [UInt8], to connectionId: String) async throws {
        switch await post(bytes, to: connectionId) {
        case .posted: return
        case .gone: throw ConnectionGoneError(connectionId: connectionId)
        case .tooLarge: throw PayloadTooLarge()
        }
    }

    /// A refusal of an oversized message, described as the HTTP path's would be.
    struct PayloadTooLarge: Error, CustomStringConvertible {
        var description: String { "@connections POST failed with 413 PayloadTooLargeException" }
    }

    /// The HTTP answer to a POST of `request`'s body to `connectionId`: 200, 410 or 413 with API
    /// Gateway's error body. The body is read no further than the limit.
    func respond(to request: Request, connectionId: String) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxMessageBytes)
        } catch is NIOTooManyBytesError {
            return Self.payloadTooLarge()
        }
        switch await post(Array(body.readableBytesView), to: connectionId) {
        case .posted: return Response(status: .ok)
        case .gone: return Self.gone()
        case .tooLarge: return Self.payloadTooLarge()
        }
    }

    static func payloadTooLarge() -> Response {
        apiError(413, type: "PayloadTooLargeException", "Message too long; the limit is 128 KB")
    }

    static func gone() -> Response {
        apiError(410, type: "GoneException", "The connection does not exist or is not yet established")
    }

    /// An error as the management API writes it: a JSON `message` and the `x-amzn-ErrorType` header.
    static func apiError(_ status: Int, type: String, _ message: String) -> Response {
        Stage.response(status: status, headers: ["Content-Type": "application/json", "x-amzn-ErrorType": type],
                       body: Array(JSONCoding.string(["message": message]).utf8))
    }
}

/// How in-process functions on the stage post their replies (`serve --reply-path`).
enum ReplyPath: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Straight to the stage's connection registry: what a `@connections` POST to this stage does,
    /// without the loopback HTTP request.
    case inProcess = "in-process"
    /// Through the stage's `@connections` HTTP endpoint with the deployed `HTTPConnectionPoster`.
    case http
}

/// The reply path of in-process functions on the stage: a post to this stage's own `@connections`
/// endpoint is delivered in process, through the same `ConnectionPosting` as the HTTP API; any
/// other endpoint (a `WEBSOCKET_MANAGEMENT_ENDPOINT` elsewhere) goes over HTTP.
struct StageReplyPoster: ConnectionPoster {
    /// `http://{host}:{port}/{stage}`, as the functions' `WEBSOCKET_MANAGEMENT_ENDPOINT` names it.
    let endpoint: String
    let posting: ConnectionPosting
    let http: any ConnectionPoster

    func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws {
        guard Self.trimmed(endpoint) == Self.trimmed(self.endpoint) else {
            return try await http.post(data, to: connectionId, endpoint: endpoint)
        }
        try await posting.postOrThrow(data, to: connectionId)
    }

    private static func trimmed(_ endpoint: String) -> Substring {
        endpoint.hasSuffix("/") ? endpoint.dropLast() : Substring(endpoint)
    }
}
