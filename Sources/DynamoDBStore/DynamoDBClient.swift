import AWSSigV4
import AsyncHTTPClient
import Handlers
import NIOCore
import NIOHTTP1
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// DynamoDB's JSON API (`X-Amz-Target: DynamoDB_20120810.<Operation>`) over HTTP, signed with SigV4,
/// with throttled requests sent again after a jittered exponential backoff.
struct DynamoDBClient: Sendable {
    /// Sends one signed request and returns the status and body: AsyncHTTPClient in production, a
    /// scripted answer in tests of the retry rules.
    typealias Transport = @Sendable (SignableRequest) async throws -> (status: Int, body: [UInt8])

    let endpoint: String
    let signer: SigV4Signer
    let retry: RetryPolicy
    let transport: Transport

    init(endpoint: String, signer: SigV4Signer, retry: RetryPolicy = RetryPolicy(), transport: @escaping Transport) {
        self.endpoint = endpoint
        self.signer = signer
        self.retry = retry
        self.transport = transport
    }

    /// Calls `operation`. `idempotent` says whether sending the request twice does no harm: only
    /// then is it sent again after a server fault or a lost connection, where it may already have
    /// been applied. Throttling is always retried: DynamoDB wrote nothing.
    func call<Response: Decodable>(_ operation: String, _ input: some Encodable & Sendable, idempotent: Bool,
                                   as _: Response.Type = Response.self) async throws -> Response {
        let body = try Array(JSONEncoder().encode(input))
        let request = SignableRequest(method: "POST", url: endpoint, headers: [
            (name: "Content-Type", value: "application/x-amz-json-1.0"),
            (name: "X-Amz-Target", value: "DynamoDB_20120810.\(operation)"),
        ], body: body)
        var attempt = 1
        while true {
            do {
                let (status, responseBody) = try await transport(try signer.sign(request, at: Date()))
                guard status == 200 else { throw DynamoDBError(operation: operation, status: status, body: responseBody) }
                do {
                    return try JSONDecoder().decode(Response.self, from: Data(responseBody))
                } catch {
                    throw DynamoDBResponseError(operation: operation, detail: "\(error)")
                }
            } catch {
                guard attempt < retry.maxAttempts, Self.isRetryable(error, idempotent: idempotent) else { throw error }
                let delay = retry.delay(beforeRetry: attempt)
                // No retry that could not answer before the invocation's deadline.
                if let deadline = StoreDeadline.current,
                   Date().addingTimeInterval(Self.seconds(delay + retry.minimumAttempt)) > deadline { throw error }
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    private static func isRetryable(_ error: any Error, idempotent: Bool) -> Bool {
        switch error {
        case let error as DynamoDBError: error.isThrottling || (idempotent && error.isServerFault)
        case is DynamoDBResponseError, is SigV4Signer.InvalidURL, is CancellationError: false
        default: idempotent // the connection failed: the request may or may not have arrived
        }
    }
}

extension DynamoDBClient {
    /// The transport over AsyncHTTPClient, with a timeout per attempt.
    static func http(_ client: HTTPClient, timeout: TimeAmount = .seconds(10)) -> Transport {
        { signed in
            var request = HTTPClientRequest(url: signed.url)
            request.method = HTTPMethod(rawValue: signed.method)
            for (name, value) in signed.headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: signed.body))
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
            return (Int(response.status.code), Array(buffer: body))
        }
    }
}

/// How often and how patiently a failed request is sent again: full-jitter exponential backoff,
/// as the AWS SDKs do for DynamoDB (25 ms base).
struct RetryPolicy: Sendable {
    var maxAttempts = 8
    var baseDelay: Duration = .milliseconds(25)
    var maxDelay: Duration = .seconds(2)
    /// The least time a retry needs to be worth sending: none is sent closer to the deadline.
    var minimumAttempt: Duration = .milliseconds(100)

    /// A random delay up to `baseDelay * 2^(retry-1)`, capped at `maxDelay`: clients throttled
    /// together spread out instead of retrying in lockstep.
    func delay(beforeRetry retry: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(retry - 1, 20)))
        return ceiling * Double.random(in: 0...1)
    }
}
