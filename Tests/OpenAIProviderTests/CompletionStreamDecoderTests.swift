@testable import OpenAIProvider
import Testing

@Suite("Chat completion stream decoding")
struct CompletionStreamDecoderTests {
    func chunk(_ content: String?, finish: String? = nil) -> String {
        let delta = content.map { "{\"content\":\"\($0)\"}" } ?? "{}"
        let reason = finish.map { "\"\($0)\"" } ?? "null"
        return "data: {\"choices\":[{\"index\":0,\"delta\":\(delta),\"finish_reason\":\(reason)}]}\n\n"
    }

    @Test("content deltas are the pieces; role-only and empty deltas are skipped")
    func pieces() throws {
        var decoder = CompletionStreamDecoder(maximumLineLength: 1 << 16)
        let body = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" + chunk("Hel") + chunk("lo") + "data: [DONE]\n\n"
        #expect(try decoder.pieces(in: Array(body.utf8)) == ["Hel", "lo"])
        #expect(throws: Never.self) { try decoder.finish() }
    }

    @Test("a finish_reason completes the reply even if [DONE] never comes")
    func finishReasonCompletes() throws {
        var decoder = CompletionStreamDecoder(maximumLineLength: 1 << 16)
        _ = try decoder.pieces(in: Array((chunk("Hi") + chunk(nil, finish: "stop")).utf8))
        #expect(decoder.isComplete)
    }

    @Test("events after [DONE] are ignored")
    func afterDone() throws {
        var decoder = CompletionStreamDecoder(maximumLineLength: 1 << 16)
        #expect(try decoder.pieces(in: Array(("data: [DONE]\n\n" + chunk("late") + "data: nonsense\n\n").utf8)).isEmpty)
    }

    @Test("a usage chunk with no choices is not an error")
    func usageChunk() throws {
        var decoder = CompletionStreamDecoder(maximumLineLength: 1 << 16)
        #expect(try decoder.pieces(in: Array("data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n".utf8)).isEmpty)
    }

    @Test("a chunk that is not JSON is a malformed response")
    func malformed() {
        var decoder = CompletionStreamDecoder(maximumLineLength: 1 << 16)
        #expect(throws: OpenAIProviderError.self) { try decoder.pieces(in: Array("data: {\"choices\": [\n\n".utf8)) }
    }

    @Test("ending before [DONE] or a finish_reason is a cut-off stream")
    func cutOff() throws {
        var decoder = CompletionStreamDecoder(maximumLineLength: 1 << 16)
        _ = try decoder.pieces(in: Array(chunk("Hi").utf8))
        #expect(throws: OpenAIProviderError.streamCutOff) { try decoder.finish() }
    }
}
