#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

/// Where replies come from: an OpenAI-compatible API when deployed (`OpenAIProvider`), the
/// embedded responder offline (`EmbeddedResponder`).
///
/// What an implementation must guarantee:
/// - **Ordering.** `streamReply` yields the reply's text pieces in order; their concatenation is the
///   whole reply. A provider that cannot stream yields the whole reply as one piece.
/// - **Errors.** Any error the stream throws ends the turn with `processing_error` and the friendly
///   fallback message (`Refusal.providerFailed`); the error's text never reaches the user. An empty
///   reply counts as a failure too. Pieces already yielded have been shown to the user (WebSocket
///   deltas), so a provider retries only before its first piece.
/// - **Deadline.** The reply must be complete by `CompletionRequest.deadline` (the invocation's);
///   a provider sets its timeouts within it and throws rather than overrun it.
/// - **Cancellation.** When the consuming task stops iterating (the client's connection is gone),
///   the stream is terminated; a provider stops its request then and need not yield any more.
/// - **No side effects on the store.** The conversation is stored by the caller, not the provider.
public protocol AIProvider: Sendable {
    /// The reply to `request`'s last turn, as a stream of text pieces.
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
