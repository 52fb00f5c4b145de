import Handlers

/// The JSON of `POST /chat/completions` and its answers, as far as this client reads them. Unknown
/// fields are ignored, so providers' extensions (Groq's `x_groq`, usage chunks) pass through.
enum ChatCompletionWire {
    struct Request: Encodable {
        var model: String
        var messages: [Message]
        var temperature: Double
        var maxTokens: Int
        var stream: Bool

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature, stream
            case maxTokens = "max_tokens"
        }
    }

    struct Message: Codable, Equatable {
        var role: String
        var content: String
    }

    /// A whole reply (`stream` ignored by the server, or not requested).
    struct Completion: Decodable {
        struct Choice: Decodable {
            var message: Message?
        }
        var choices: [Choice]?
        var error: ProviderError?
    }

    /// One `data:` event of a streamed reply.
    struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable {
                var content: String?
            }
            var delta: Delta?
            var finishReason: String?

            enum CodingKeys: String, CodingKey {
                case delta
                case finishReason = "finish_reason"
            }
        }
        var choices: [Choice]?
        var error: ProviderError?
    }

    /// `{"error": {"message": ..., "type": ...}}`, in error responses and, from some providers, mid-stream.
    struct ProviderError: Decodable {
        var message: String?
        var type: String?
    }

    struct ErrorBody: Decodable {
        var error: ProviderError?
    }

    /// The request's messages: the widget's system prompt, then the conversation.
    static func messages(systemPrompt: String, history: [ChatTurn]) -> [Message] {
        [Message(role: ChatRole.system.rawValue, content: systemPrompt)]
            + history.map { Message(role: $0.role.rawValue, content: $0.content) }
    }
}
