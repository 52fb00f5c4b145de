import Crypto

/// A client's proof that a conversation is its own: conversations belong to their client. A
/// conversation id is a name the client chooses and may leak (a URL, a log, a shared screen, ids
/// like `c1`); the token is what gives access.
///
/// The token is 128 random bits, written as 22 base64url characters. The server hands it out with a
/// conversation's first reply (`conversation_token` in the chat POST's answer and in the `message` /
/// `done` frames) and the client sends it back with later turns. Stored messages are keyed by
/// `storageKey(widgetId:conversationId:)`: the conversation id, `~`, and a SHA-256 of (widget,
/// conversation id, token). Therefore:
/// - a turn with the token reads and extends its conversation;
/// - a turn without it, or with any other token, lands in a conversation of its own, even under the
///   same conversation id: it never sees another client's turns and never adds to them;
/// - checking a token needs no secret and no lookup: a wrong token names another, empty conversation;
/// - the store, the admin API and exports see only the hash, from which the token cannot be recovered.
public struct ConversationToken: Sendable, Equatable, CustomStringConvertible {
    /// The 22 base64url characters.
    public let description: String

    static let byteCount = 16
    static let characterCount = 22

    /// A token sent by a client, or nil unless it is exactly 22 canonical base64url characters
    /// (the last character carries 2 data bits and 4 zero bits: `Base64.decodeURL` refuses others).
    public init?(_ text: String) {
        guard text.utf8.count == Self.characterCount, Base64.decodeURL(text[...]) != nil else { return nil }
        description = text
    }

    /// The token a turn carries (`conversation_token`), nil when it carries none, or the refusal
    /// of a malformed one: both entry points, the chat POST and `sendMessage`, answer it alike.
    static func sent(_ text: String?) -> Result<ConversationToken?, Refusal> {
        guard let text else { return .success(nil) }
        guard let token = ConversationToken(text) else {
            return .failure(.invalidRequest("conversation_token must be the token an earlier reply returned."))
        }
        return .success(token)
    }

    private init(bytes: some Sequence<UInt8>) {
        description = Base64.encodeURL(Array(bytes.prefix(Self.byteCount)))
    }

    /// A new conversation's token, from the system's random generator (two draws of 64 bits, not
    /// one per byte: each draw is a system call).
    public static func random() -> ConversationToken {
        var generator = SystemRandomNumberGenerator()
        let words = [generator.next(), generator.next()] as [UInt64]
        return ConversationToken(bytes: words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } })
    }

    /// The token of the conversation a WebSocket connection holds when its frames carry none: only
    /// frames on that connection reach it (API Gateway sets the connection id; a client cannot), and
    /// the reply frames hand the token over so that a reconnecting page can continue. Keyed, so that
    /// knowing a connection id (it shows in logs and the `@connections` API) does not give the token.
    public static func boundTo(connectionId: String, key: [UInt8]) -> ConversationToken {
        ConversationToken(bytes: HMAC<SHA256>.authenticationCode(for: Array("conversation-of-connection:\(connectionId)".utf8),
                                                                 using: SymmetricKey(data: key)))
    }

    /// The key under which the conversation's messages are stored.
    public func storageKey(widgetId: String, conversationId: String) -> String {
        var hasher = SHA256()
        for part in [widgetId, conversationId, description] {
            hasher.update(data: Array(part.utf8))
            hasher.update(data: [0])
        }
        return conversationId + "~" + Base64.encodeURL(Array(hasher.finalize()).prefix(Self.byteCount))
    }

    /// The conversation id a client named, of a key `storageKey` made (conversation ids have no `~`):
    /// what an export shows, one entry per owner. A key stored before tokens existed is the id itself.
    public static func conversationId(ofStorageKey key: String) -> String {
        key.firstIndex(of: "~").map { String(key[..<$0]) } ?? key
    }
}
