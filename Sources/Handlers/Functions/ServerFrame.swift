/// The JSON text frames the server sends a widget over WebSocket (docs/protocol.md, “WebSocket”).
///
/// A reply's last frame (`message`, or `done` after `delta`s) carries the conversation's token, which
/// the client sends back with later turns, e.g. after reconnecting (`ConversationToken`).
public enum ServerFrame: Sendable, Equatable {
    case message(content: String, conversationId: String, conversationToken: ConversationToken)
    case delta(content: String, conversationId: String)
    case done(content: String, conversationId: String, conversationToken: ConversationToken)
    case error(Refusal)

    private struct Wire: JSONValueEncodable {
        var type: String
        var role: String?
        var content: String?
        var conversationId: String?
        var conversationToken: String?
        var error: String?
        var message: String?
        var retryAfter: Int?
        var blockExpiresAt: String?

        var jsonValue: JSONValue {
            var object: [String: JSONValue] = ["type": .string(type)]
            object.set("role", role)
            object.set("content", content)
            object.set("conversation_id", conversationId)
            object.set("conversation_token", conversationToken)
            object.set("error", error)
            object.set("message", message)
            object.set("retry_after", retryAfter)
            object.set("block_expires_at", blockExpiresAt)
            return .object(object)
        }
    }

    public var json: [UInt8] {
        let wire: Wire = switch self {
        case .message(let content, let conversationId, let token):
            Wire(type: "message", role: "assistant", content: content, conversationId: conversationId, conversationToken: token.description)
        case .delta(let content, let conversationId):
            Wire(type: "delta", content: content, conversationId: conversationId)
        case .done(let content, let conversationId, let token):
            Wire(type: "done", role: "assistant", content: content, conversationId: conversationId, conversationToken: token.description)
        case .error(let refusal):
            Wire(type: "error", error: refusal.code.rawValue, message: refusal.message, retryAfter: refusal.retryAfter,
                 blockExpiresAt: refusal.blockExpiresAt.map(ISO8601.string))
        }
        return wire.jsonValue.jsonBytes
    }
}
