import Handlers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns the bytes of a streamed chat completion into the reply's text pieces, and knows whether the
/// reply is complete: a stream that ends before `[DONE]` or a `finish_reason` was cut off, and its
/// text must not pass for a whole answer.
struct CompletionStreamDecoder: Sendable {
    private var parser: ServerSentEventParser
    private(set) var isComplete = false

    init(maximumLineLength: Int) {
        parser = ServerSentEventParser(maximumLineLength: maximumLineLength)
    }

    /// The text pieces in `bytes`, in order; empty pieces are dropped.
    mutating func pieces(in bytes: some Sequence<UInt8>) throws -> [String] {
        let events: [ServerSentEvent]
        do {
            events = try parser.consume(bytes)
        } catch {
            throw OpenAIProviderError.malformedResponse("\(error)")
        }
        var pieces: [String] = []
        for event in events where !isComplete {
            if event.data == "[DONE]" {
                isComplete = true
                break
            }
            let chunk: ChatCompletionWire.Chunk
            do {
                chunk = try JSONDecoder().decode(ChatCompletionWire.Chunk.self, from: Data(event.data.utf8))
            } catch {
                throw OpenAIProviderError.malformedResponse("a stream event is not a chat completion chunk: \(Self.excerpt(event.data))")
            }
            if let error = chunk.error {
                throw OpenAIProviderError.providerReported(error.message ?? error.type ?? "unspecified error")
            }
            guard let choice = chunk.choices?.first else { continue }
            if let content = choice.delta?.content, !content.isEmpty { pieces.append(content) }
            if choice.finishReason != nil { isComplete = true }
        }
        return pieces
    }

    /// Checks the end of the body: anything short of a complete reply is a cut-off stream.
    func finish() throws {
        guard isComplete else { throw OpenAIProviderError.streamCutOff }
    }

    static func excerpt(_ text: String) -> String {
        text.count > 120 ? String(text.prefix(120)) + "…" : text
    }
}
