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
}

extension AIProvider {
    /// The whole reply, assembled from the stream.
    public func reply(_ request: CompletionRequest) async throws -> String {
        var text = ""
        for try await piece in streamReply(request) { text += piece }
        return text
    }
}

/// A provider that reads at most `earlierTurnsRead` earlier turns of the conversation. A chat turn
/// reads the stored conversation only to hand it to the provider, so it reads no more than this
/// (a provider without this capability is given every turn up to `max_conversation_length`).
public protocol HistoryBounded: AIProvider {
    /// At most how many earlier turns `streamReply` reads; 0 for the new message alone.
    var earlierTurnsRead: Int { get }
}

/// A provider that has the whole reply without waiting: no network, no I/O, a bounded computation.
/// A chat turn asks it inside the store's admission, once every check has passed, so that the
/// store can keep the reply in the same write as the message (`MessageAdmission.answer`); it must
/// give what `streamReply` would yield, concatenated.
public protocol ImmediateReplying: AIProvider {
    /// The whole reply to `request`'s last turn; empty counts as a failure, as an empty stream does.
    func immediateReply(_ request: CompletionRequest) -> String
}
