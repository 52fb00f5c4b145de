/// Why a reply could not be had. `ChatService` turns each into `processing_error` with a friendly
/// fallback; the descriptions are for logs, and never contain the API key.
public enum OpenAIProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Timeout: String, Sendable, Equatable {
        /// Connected (or still connecting) but no response head within the connect timeout.
        case connect
        /// The body went silent for longer than the read timeout.
        case read
        /// The invocation's deadline (less the reserve for the fallback) arrived first.
        case deadline
    }

    case timedOut(Timeout)
    /// The provider answered with a non-2xx status; `retryAfter` is its `Retry-After`, in seconds.
    case status(Int, message: String?, retryAfter: Double?)
    /// The response is not a chat completion: bad JSON, a bad event stream, an unexpected content type.
    case malformedResponse(String)
    /// The provider sent an error object in a successful response, e.g. mid-stream.
    case providerReported(String)
    /// The stream ended before `[DONE]` or a `finish_reason`.
    case streamCutOff
    /// The response body exceeded the size this client accepts.
    case responseTooLarge(limit: Int)
    /// No connection could be made, for the reason given: certain causes (refused, unresolvable)
    /// are reported at once, without waiting out the connect timeout.
    case cannotConnect(ConnectFailure)
    /// The connection broke once made (reset, closed mid-body).
    case transport(String)

    /// Why a connection to the provider could not be made, as precisely as the error tells.
    public enum ConnectFailure: Sendable, Equatable, CustomStringConvertible {
        /// Nothing listens at the address: the host answered the connection attempt with a refusal.
        case refused(host: String, port: Int)
        /// The host name has no address: a typo in `AI_API_URL`, or no DNS.
        case unresolvable(host: String, reason: String)
        /// The TLS handshake failed: wrong port for https, an untrusted or mismatched certificate.
        case tls(String)
        /// No connection within the connect timeout: a host that drops packets, or no route.
        case timedOut(host: String, port: Int)
        /// Anything else the connection attempt reported.
        case other(String)

        public var description: String {
            switch self {
            case .refused(let host, let port): "connection refused by \(host):\(port) (nothing listens there)"
            case .unresolvable(let host, let reason): "cannot resolve host \(host) (DNS: \(reason))"
            case .tls(let reason): "TLS handshake failed: \(reason)"
            case .timedOut(let host, let port): "no connection to \(host):\(port) within the connect timeout"
            case .other(let reason): reason
            }
        }
    }

    /// 429 and 5xx are worth one more try; everything else would fail again the same way.
    var isRetryable: Bool {
        guard case .status(let code, _, _) = self else { return false }
        return code == 429 || (500...599).contains(code)
    }

    public var description: String {
        switch self {
        case .timedOut(.connect): "the AI provider sent no response head within the connect timeout"
        case .timedOut(.read): "the AI provider's stream went silent for longer than the read timeout"
        case .timedOut(.deadline): "the AI provider did not finish before the invocation deadline"
        case .status(let code, let message, _): "the AI provider answered \(code)\(message.map { ": \($0)" } ?? "")"
        case .malformedResponse(let reason): "malformed AI provider response: \(reason)"
        case .providerReported(let message): "the AI provider reported an error: \(message)"
        case .streamCutOff: "the AI provider's stream ended before the reply was complete"
        case .responseTooLarge(let limit): "the AI provider's response exceeded \(limit) bytes"
        case .cannotConnect(let failure): "cannot reach the AI provider: \(failure)"
        case .transport(let reason): "the connection to the AI provider broke: \(reason)"
        }
    }
}
