/// The JSON text frames the server sends a widget over WebSocket (SPEC §3.1).
public enum ServerFrame: Sendable, Equatable {
    case message(content: String, conversationId: String)
    case delta(content: String, conversationId: String)
    case done(content: String, conversationId: String)
    case error(Refusal)

    private struct Wire: Encodable {
        var type: String
        var role: String?
        var content: String?
        var conversationId: String?
        var error: String?
        var message: String?
        var retryAfter: Int?
        var blockExpiresAt: String?

        enum CodingKeys: String, CodingKey {
            case type, role, content, error, message
            case conversationId = "conversation_id"
            case retryAfter = "retry_after"
            case blockExpiresAt = "block_expires_at"
        }
    }

    public var json: [UInt8] {
        let wire: Wire = switch self {
        case .message(let content, let conversationId):
            Wire(type: "message", role: "assistant", content: content, conversationId: conversationId)
        case .delta(let content, let conversationId):
            Wire(type: "delta", content: content, conversationId: conversationId)
        case .done(let content, let conversationId):
            Wire(type: "done", role: "assistant", content: content, conversationId: conversationId)
        case .error(let refusal):
            Wire(type: "error", error: refusal.code.rawValue, message: refusal.message, retryAfter: refusal.retryAfter,
                 blockExpiresAt: refusal.blockExpiresAt.map(ISO8601.string))
        }
        return Array(JSONCoding.string(wire).utf8)
    }
}
