import AsyncHTTPClient
import Handlers
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Replies from an OpenAI-compatible chat-completions API (OpenAI, Groq, a local llama.cpp or vLLM…),
/// streamed as the model writes them so that WebSocket clients see `delta` frames at once.
///
/// Every request lives within the invocation's deadline: the connect and read timeouts are cut short
/// by it, a reserve is kept for the handler to send its fallback, and the one retry (on 429 or 5xx,
/// after `Retry-After`) happens only if it still fits. Failures are thrown, never swallowed.
public struct OpenAIProvider: AIProvider {
    public struct Settings: Sendable, Equatable {
        public static let defaultBaseURL = "https://api.groq.com/openai/v1"
        public static let defaultModel = "llama-3.3-70b-versatile"

        /// The API root, e.g. `https://api.groq.com/openai/v1`; requests go to `{baseURL}/chat/completions`.
        public var baseURL: String
        public var apiKey: String?
        public var model: String
        public var temperature: Double
        public var maxTokens: Int
        public var timeouts: Timeouts

        public init(baseURL: String = defaultBaseURL, apiKey: String?, model: String = defaultModel, temperature: Double = 0.7,
                    maxTokens: Int = 500, timeouts: Timeouts = Timeouts()) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.model = model
            self.temperature = temperature
            self.maxTokens = maxTokens
            self.timeouts = timeouts
        }

        var completionsURL: String {
            (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/chat/completions"
        }
    }

    public struct Timeouts: Sendable, Equatable {
        /// Time to connect and receive the response head; with streaming the head comes before the
        /// first token, so a provider that takes longer is down or overloaded.
        public var connect: Duration
        /// The longest silence allowed between pieces of the body.
        public var read: Duration
        /// Kept free before the invocation deadline, so that the handler can still send its fallback.
        public var reserve: Duration
        /// The least time a retry must have left after waiting; a retry with less would only fail later.
        public var minimumRetryTime: Duration
        /// The wait before the retry when the provider sends no `Retry-After`.
        public var defaultRetryDelay: Duration

        public init(connect: Duration = .seconds(10), read: Duration = .seconds(15), reserve: Duration = .seconds(1),
                    minimumRetryTime: Duration = .seconds(2), defaultRetryDelay: Duration = .seconds(1)) {
            self.connect = connect
            self.read = read
            self.reserve = reserve
            self.minimumRetryTime = minimumRetryTime
            self.defaultRetryDelay = defaultRetryDelay
        }
    }

    /// A reply of 500 tokens is a few kilobytes of text and some tens of kilobytes of stream; these
    /// bounds only stop a broken or hostile server from filling memory.
    static let maximumBodyBytes = 2 << 20
    static let maximumErrorBodyBytes = 64 << 10

    public let settings: Settings
    private let client: HTTPClient
    private let logger: Logger

    /// The process-wide client for providers: like `HTTPClient.shared` (never shut down, so a Lambda
    /// keeps it and its warm connections across invocations), but a failed connection attempt fails
    /// the request at once instead of being retried with backoff until the connect timeout. A
    /// refused connection or an unresolvable host will not change within one reply, and the user
    /// waiting for it should hear why in milliseconds, not after 10 s (`ConnectFailure`).
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// `client` defaults to `sharedClient`.
    public init(settings: Settings, client: HTTPClient = OpenAIProvider.sharedClient, logger: Logger = Logger(label: "OpenAIProvider")) {
        self.settings = settings
        self.client = client
        self.logger = logger
    }

    public func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await reply(to: request) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    logger.error("AI reply failed", metadata: ["error": "\(error)", "model": "\(settings.model)"])
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The request, sent at most twice.
    private func reply(to request: CompletionRequest, yield: @escaping @Sendable (String) -> Void) async throws {
        let deadline = ContinuousClock.now + .seconds(request.deadline.timeIntervalSinceNow) - settings.timeouts.reserve
        let httpRequest = try makeRequest(request)
        do {
            try await attempt(httpRequest, deadline: deadline, yield: yield)
        } catch let failure as OpenAIProviderError where failure.isRetryable {
            guard let delay = retryDelay(after: failure, deadline: deadline) else { throw failure }
            logger.warning("AI provider failed; retrying once", metadata: ["error": "\(failure)", "delay_seconds": "\(delay)"])
            try await Task.sleep(for: delay)
            try await attempt(httpRequest, deadline: deadline, yield: yield)
        }
    }

    /// The wait before the retry, or nil when the retry would not finish before the deadline.
    func retryDelay(after failure: OpenAIProviderError, deadline: ContinuousClock.Instant) -> Duration? {
        guard case .status(_, _, let retryAfter) = failure else { return nil }
        let delay = retryAfter.map { Duration.seconds($0) } ?? settings.timeouts.defaultRetryDelay
        return ContinuousClock.now + delay + settings.timeouts.minimumRetryTime <= deadline ? delay : nil
    }

    private func makeRequest(_ request: CompletionRequest) throws -> HTTPClientRequest {
        let body = ChatCompletionWire.Request(
            model: settings.model,
            messages: ChatCompletionWire.messages(systemPrompt: SystemPrompt.text(for: request.widget.settings), history: request.history),
            temperature: settings.temperature, maxTokens: settings.maxTokens, stream: true)
        var http = HTTPClientRequest(url: settings.completionsURL)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: "text/event-stream, application/json")
        if let key = settings.apiKey { http.headers.add(name: "Authorization", value: "Bearer \(key)") }
        http.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return http
    }

    private func attempt(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant,
                         yield: @escaping @Sendable (String) -> Void) async throws {
        guard ContinuousClock.now < deadline else { throw OpenAIProviderError.timedOut(.deadline) }
        let watchdog = AttemptWatchdog(connectTimeout: settings.timeouts.connect, deadline: deadline)
        do {
            try await watchdog.guarding {
                let response = try await client.execute(request, deadline: NIODeadline.now() + TimeAmount(deadline - .now))
                try await read(response, watchdog: watchdog, yield: yield)
            }
        } catch let error as OpenAIProviderError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw OpenAIProviderError.timedOut(.deadline)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let url = URL(string: settings.completionsURL)
            let port = url?.port ?? (url?.scheme?.lowercased() == "https" ? 443 : 80)
            if let failure = OpenAIProviderError.ConnectFailure(error: error, host: url?.host ?? "", port: port) {
                throw OpenAIProviderError.cannotConnect(failure)
            }
            throw OpenAIProviderError.transport("\(error)")
        }
    }

    private func read(_ response: HTTPClientResponse, watchdog: AttemptWatchdog, yield: @Sendable (String) -> Void) async throws {
        let readTimeout = settings.timeouts.read
        watchdog.progressed(readTimeout: readTimeout)
        guard (200..<300).contains(response.status.code) else {
            let body = try? await collect(response.body, limit: Self.maximumErrorBodyBytes, watchdog: watchdog)
            let message = body.flatMap { try? JSONDecoder().decode(ChatCompletionWire.ErrorBody.self, from: Data($0)) }?.error?.message
            throw OpenAIProviderError.status(Int(response.status.code), message: message,
                                             retryAfter: RetryAfter.seconds(response.headers.first(name: "Retry-After"), now: Date()))
        }
        let contentType = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/event-stream") {
            var decoder = CompletionStreamDecoder(maximumLineLength: Self.maximumBodyBytes)
            var received = 0
            do {
                for try await buffer in response.body {
                    watchdog.progressed(readTimeout: readTimeout)
                    received += buffer.readableBytes
                    guard received <= Self.maximumBodyBytes else { throw OpenAIProviderError.responseTooLarge(limit: Self.maximumBodyBytes) }
                    for piece in try decoder.pieces(in: buffer.readableBytesView) { yield(piece) }
                }
            } catch let error as OpenAIProviderError {
                throw error
            } catch where !(error is CancellationError) {
                // The connection broke mid-body (closed, reset, truncated chunked encoding): the reply
                // stands only if it was already complete.
                guard decoder.isComplete else { throw OpenAIProviderError.streamCutOff }
            }
            try decoder.finish()
        } else if contentType.hasPrefix("application/json") {
            let body = try await collect(response.body, limit: Self.maximumBodyBytes, watchdog: watchdog)
            guard let completion = try? JSONDecoder().decode(ChatCompletionWire.Completion.self, from: Data(body)) else {
                throw OpenAIProviderError.malformedResponse("the body is not a chat completion: \(CompletionStreamDecoder.excerpt(String(decoding: body, as: UTF8.self)))")
            }
            if let error = completion.error { throw OpenAIProviderError.providerReported(error.message ?? error.type ?? "unspecified error") }
            guard let content = completion.choices?.first?.message?.content else {
                throw OpenAIProviderError.malformedResponse("the completion has no message content")
            }
            yield(content)
        } else {
            throw OpenAIProviderError.malformedResponse("unexpected content type \"\(contentType)\"")
        }
    }

    private func collect(_ body: HTTPClientResponse.Body, limit: Int, watchdog: AttemptWatchdog) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body {
            watchdog.progressed(readTimeout: settings.timeouts.read)
            guard bytes.count + buffer.readableBytes <= limit else { throw OpenAIProviderError.responseTooLarge(limit: limit) }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }
}

extension TimeAmount {
    /// The duration, capped at a year: an invocation deadline centuries away (a Runtime API may send
    /// any `Lambda-Runtime-Deadline-Ms`) would overflow the nanoseconds and trap instead of waiting.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let year: Int64 = 365 * 24 * 3600
        self = seconds >= year ? .seconds(year) : .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
