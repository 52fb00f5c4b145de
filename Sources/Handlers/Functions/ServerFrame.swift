/// The JSON text frames the server sends a widget over WebSocket (docs/protocol.md, “WebSocket”).
///
/// A reply's last frame (`message`, or `done` after `delta`s) carries the conversation's token, which
/// the client sends back with later turns, e.g. after reconnecting (`ConversationToken`).
public enum ServerFrame: Sendable, Equatable {
    case message(content: String, conversationId: String, conversationToken: ConversationToken)
    case delta(content: String, conversationId: String)
    case done(content: String, conversationId: String, conversationToken: ConversationToken)
    case error(Refusal)

    /// The frame as JSON: `type` and the fields of its kind, nil fields left out.
    public var json: [UInt8] {
        var object: [String: JSONValue]
        switch self {
        case .message(let content, let conversationId, let token), .done(let content, let conversationId, let token):
            object = ["role": .string("assistant"), "content": .string(content), "conversation_id": .string(conversationId),
                      "conversation_token": .string(token.description)]
        case .delta(let content, let conversationId):
            object = ["content": .string(content), "conversation_id": .string(conversationId)]
        case .error(let refusal):
            object = ["error": .string(refusal.code.rawValue), "message": .string(refusal.message)]
            object.set("retry_after", refusal.retryAfter)
            object.set("block_expires_at", refusal.blockExpiresAt.map(ISO8601.string))
        }
        object["type"] = .string(kind)
        return JSONValue.object(object).jsonBytes
    }

    /// The frame's `type`.
    var kind: String {
        switch self {
        case .message: "message"
        case .delta: "delta"
        case .done: "done"
        case .error: "error"
        }
    }
}
