import ArgumentParser
import Foundation
import Handlers
import ManagementAPIClient
import NIOCore
import WSCore

/// A `@connections` POST as the stage carries it out, shared by the HTTP management API and the
/// in-process reply path so that both refuse and deliver alike.
struct ConnectionPosting: Sendable {
    enum Outcome: Sendable, Equatable {
        case posted
        /// The connection is not open (API Gateway's 410 GoneException).
        case gone
        /// Above the 128 KB message limit (413 PayloadTooLargeException).
        case tooLarge
    }

    let registry: ConnectionRegistry
    let maxMessageBytes: Int

    func post(_ bytes: [UInt8], to connectionId: String) async -> Outcome {
        guard bytes.count <= maxMessageBytes else { return .tooLarge }
        guard let writer = registry.writer(connectionId) else { return .gone }
        do {
            if let text = String(validating: bytes, as: UTF8.self) {
                try await writer.write(.text(text))
            } else {
                try await writer.write(.binary(ByteBuffer(bytes: bytes)))
            }
        } catch {
            return .gone
        }
        registry.touch(connectionId)
        return .posted
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
/// other endpoint (a `WEBSOCKET_MANAGEMENT_ENDPOINT` elsewhere) goes over HTTP as before.
struct StageReplyPoster: ConnectionPoster {
    /// `http://{host}:{port}/{stage}`, as the functions' `WEBSOCKET_MANAGEMENT_ENDPOINT` names it.
    let endpoint: String
    let posting: ConnectionPosting
    let http: any ConnectionPoster

    /// The in-process path's refusal of an oversized frame, described as the HTTP path's would be.
    struct PayloadTooLarge: Error, CustomStringConvertible {
        var description: String { "@connections POST failed with 413 PayloadTooLargeException" }
    }

    func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws {
        guard Self.trimmed(endpoint) == Self.trimmed(self.endpoint) else {
            return try await http.post(data, to: connectionId, endpoint: endpoint)
        }
        switch await posting.post(data, to: connectionId) {
        case .posted: return
        case .gone: throw ConnectionGoneError(connectionId: connectionId)
        case .tooLarge: throw PayloadTooLarge()
        }
    }

    private static func trimmed(_ endpoint: String) -> Substring {
        endpoint.hasSuffix("/") ? endpoint.dropLast() : Substring(endpoint)
    }
}
