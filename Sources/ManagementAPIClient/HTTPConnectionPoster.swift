import AWSSigV4
import AsyncHTTPClient
// FoundationEssentials only: the full Foundation would link ICU's data into the `bootstrap` binary.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Handlers
import NIOCore
import NIOHTTP1

/// Posts frames through the API Gateway `@connections` management API over HTTP — the code path a
/// deployed Lambda uses, which the local stage answers too.
///
/// Requests can be signed before they are sent (SigV4 for `execute-api` in AWS); the local stage
/// needs no signature.
public struct HTTPConnectionPoster: ConnectionPoster {
    /// Adds authentication to a request about to be sent (method, URL, headers, body).
    public typealias Signer = @Sendable (_ request: inout HTTPClientRequest, _ body: [UInt8]) async throws -> Void

    /// The management API refused the post for a reason other than a gone connection.
    public struct PostFailed: Error, CustomStringConvertible {
        public var status: Int
        public var errorType: String?
        public var description: String { "@connections POST failed with \(status)\(errorType.map { " \($0)" } ?? "")" }
    }

    private let client: HTTPClient
    private let signer: Signer?
    private let timeout: TimeAmount

    public init(client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10), signer: Signer? = nil) {
        self.client = client
        self.signer = signer
        self.timeout = timeout
    }

    public func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws {
        var request = HTTPClientRequest(url: Self.url(endpoint: endpoint, connectionId: connectionId))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Content-Length", value: "\(data.count)")
        request.body = .bytes(ByteBuffer(bytes: data))
        if let signer { try await signer(&request, data) }
        let response = try await client.execute(request, timeout: timeout)
        let errorType = response.headers.first(name: "x-amzn-ErrorType")
        _ = try? await response.body.collect(upTo: 64 * 1024)
        switch response.status.code {
        case 200..<300: return
        case 410: throw ConnectionGoneError(connectionId: connectionId)
        default: throw PostFailed(status: Int(response.status.code), errorType: errorType)
        }
    }

    /// `{endpoint}/@connections/{id}` with the id percent-encoded: ids end in `=` and may hold `/` or `+`.
    static func url(endpoint: String, connectionId: String) -> String {
        let id = PercentEncoding.encode(connectionId.utf8)
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        return "\(base)/@connections/\(id)"
    }
}
