import Foundation
import Handlers
import Synchronization
import Testing

/// A provider that streams a scripted reply piece by piece, optionally waiting between pieces.
struct ScriptedProvider: AIProvider {
    var pieces: [String]
    var pause: Duration = .zero
    /// Called before each piece is yielded, with its index: lets a test hold the stream at a point.
    var beforePiece: @Sendable (Int) async -> Void = { _ in }

    func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                for (index, piece) in pieces.enumerated() {
                    await beforePiece(index)
                    if pause > .zero { try await Task.sleep(for: pause) }
                    continuation.yield(piece)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

@Suite struct StreamCadenceTests {
    static let twoHundredPieces = (0..<200).map { "w\($0) " }

    func streamedFrames(provider: ScriptedProvider, poster: RecordingPoster = RecordingPoster()) async throws -> [[String: JSONValue]] {
        let harness = try await Harness(ai: provider, poster: poster)
        _ = try await harness.connect(query: ["sessionId": "s-1", "widget_id": DemoWidget.id])
        let response = try await harness.send(#"{"action":"sendMessage","message":"Tell me a long story"}"#)
        #expect(response.statusCode == 200)
        return harness.poster.frames
    }

    @Test func aTwoHundredPieceReplyTakesAtMostTwelvePosts() async throws {
        let frames = try await streamedFrames(provider: ScriptedProvider(pieces: Self.twoHundredPieces),
                                              poster: RecordingPoster(latency: .milliseconds(15)))
        #expect(frames.count <= 12)
        #expect(frames.last?["type"] == .string("done"))
    }

    @Test func coalescedDeltasConcatenateInOrderToTheDoneText() async throws {
        let frames = try await streamedFrames(provider: ScriptedProvider(pieces: Self.twoHundredPieces, pause: .milliseconds(1)))
        let deltas = frames.dropLast()
        #expect(deltas.allSatisfy { $0["type"] == .string("delta") })
        let joined = deltas.map { frame -> String in
            if case .string(let text) = frame["content"] { return text }
            return ""
        }.joined()
        #expect(joined == Self.twoHundredPieces.joined())
        #expect(frames.last?["content"] == .string(Self.twoHundredPieces.joined()))
    }

    @Test func piecesThatWaitAreSentWhenTheIntervalEndsEvenIfTheProviderStalls() async throws {
        // The provider stalls after its third piece until the client has seen those pieces.
        let poster = RecordingPoster()
        let seenBeforeStall = Mutex(false)
        let provider = ScriptedProvider(pieces: ["one ", "two ", "three ", "four"], beforePiece: { index in
            guard index == 3 else { return }
            let bound = ContinuousClock.now.advanced(by: .seconds(10))
            while ContinuousClock.now < bound {
                let text = poster.frames.compactMap { frame -> String? in
                    if case .string(let text) = frame["content"] { return text }
                    return nil
                }.joined()
                if text == "one two three " {
                    seenBeforeStall.withLock { $0 = true }
                    return
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        })
        let frames = try await streamedFrames(provider: provider, poster: poster)
        #expect(seenBeforeStall.withLock { $0 })
        #expect(frames.last?["content"] == .string("one two three four"))
    }

    @Test func aReplyInOnePieceIsStillOneMessageFrame() async throws {
        let frames = try await streamedFrames(provider: ScriptedProvider(pieces: ["All of it at once."]))
        #expect(frames.count == 1)
        #expect(frames.first?["type"] == .string("message"))
    }
}
