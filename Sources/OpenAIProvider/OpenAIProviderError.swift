/// Why a reply could not be had. `ChatService` turns each into `processing_error` with a friendly
/// fallback; the descriptions are for logs, and never contain the API key.
public enum OpenAIProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Timeout: String, Sendable, Equatable {
        /// No response head within the connect timeout.
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
    /// The connection failed or broke (refused, reset, closed mid-body).
    case transport(String)

    /// 429 and 5xx are worth one more try; everything else would fail again the same way.
    var isRetryable: Bool {
        guard case .status(let code, _, _) = self else { return false }
        return code == 429 || (500...599).contains(code)
    }

    public var description: String {
        switch self {
        case .timedOut(.connect): "the AI provider did not answer within the connect timeout"
        case .timedOut(.read): "the AI provider's stream went silent for longer than the read timeout"
        case .timedOut(.deadline): "the AI provider did not finish before the invocation deadline"
        case .status(let code, let message, _): "the AI provider answered \(code)\(message.map { ": \($0)" } ?? "")"
        case .malformedResponse(let reason): "malformed AI provider response: \(reason)"
        case .providerReported(let message): "the AI provider reported an error: \(message)"
        case .streamCutOff: "the AI provider's stream ended before the reply was complete"
        case .responseTooLarge(let limit): "the AI provider's response exceeded \(limit) bytes"
        case .transport(let reason): "cannot reach the AI provider: \(reason)"
        }
    }
}
