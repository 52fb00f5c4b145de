/// The wall clock, behind a protocol so that replay can run each event at the time it was recorded
/// and tests can move time. (Named `WallClock` so as not to shadow the standard library's `Clock`.)
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The real time.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A line of the conversation sent to a provider.
public struct ChatTurn: Codable, Sendable, Equatable {
    public var role: ChatRole
    public var content: String

    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }
}

extension ChatRole: JSONValueDecodable {}

extension ChatTurn: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        role = try fields.decode("role")
        content = try fields.decode("content")
    }
}

/// One request for a reply: the widget (for its prompt and knowledge) and the redacted history,
/// whose last turn is the user's new message.
public struct CompletionRequest: Sendable {
    public var widget: WidgetConfig
    public var history: [ChatTurn]
    /// When the reply must be complete; providers set their timeouts within it.
    public var deadline: Date

    public init(widget: WidgetConfig, history: [ChatTurn], deadline: Date) {
        self.widget = widget
        self.history = history
        self.deadline = deadline
    }
}

/// Where replies come from: an OpenAI-compatible API when deployed, the embedded responder offline.
public protocol AIProvider: Sendable {
    /// The reply as a stream of text pieces; a provider that cannot stream yields the whole reply once.
    /// Thrown errors become `processing_error` with a friendly fallback message.
    func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error>

    /// At most how many earlier turns of the conversation `streamReply` reads, or nil for every turn
    /// it is given. A chat turn reads the stored conversation (up to `max_conversation_length`) only
    /// to hand it to the provider, so a provider that reads fewer saves that read and its copies.
    var earlierTurnsRead: Int? { get }

    /// The whole reply, when the provider has it without waiting; nil to stream it. A chat turn
    /// then hands it on as the one piece the stream would have yielded, without setting up a stream
    /// and its continuation for a reply that is already there.
    func immediateReply(_ request: CompletionRequest) -> String?
}

extension AIProvider {
    /// Every turn it is given: what a language model needs to follow the conversation.
    public var earlierTurnsRead: Int? { nil }

    /// None: the reply comes through `streamReply`.
    public func immediateReply(_ request: CompletionRequest) -> String? { nil }

    /// The whole reply, assembled from the stream.
    public func reply(_ request: CompletionRequest) async throws -> String {
        var text = ""
        for try await piece in streamReply(request) { text += piece }
        return text
    }
}

/// Thrown by a poster when the connection no longer exists (API Gateway's 410 GoneException).
public struct ConnectionGoneError: Error, Sendable, Equatable {
    public var connectionId: String
    public init(connectionId: String) { self.connectionId = connectionId }
}

/// Sends data to a WebSocket client through the `@connections` management API.
public protocol ConnectionPoster: Sendable {
    /// Posts one text frame to `connectionId` at the management `endpoint` (`https://{domain}/{stage}`).
    func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws
}

/// Everything a function needs from the outside world.
public struct Dependencies: Sendable {
    public var store: any Store
    public var ai: any AIProvider
    public var poster: any ConnectionPoster
    public var clock: any WallClock
    public var configuration: Configuration
    /// Where each invocation's report goes (metrics and its log lines); nil counts nothing.
    public var telemetry: (any TelemetrySink)?

    public init(store: any Store, ai: any AIProvider, poster: any ConnectionPoster, clock: any WallClock = SystemClock(),
                configuration: Configuration, telemetry: (any TelemetrySink)? = nil) {
        self.store = store
        self.ai = ai
        self.poster = poster
        self.clock = clock
        self.configuration = configuration
        self.telemetry = telemetry
    }
}
