#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The offline AI provider: deterministic replies from the widget's greeting and knowledge entries,
/// so that the whole product works locally with no key and fixtures replay byte for byte.
///
/// Entries are ranked against the question with BM25 over lower-cased, lightly stemmed word tokens.
public struct EmbeddedResponder: AIProvider {
    /// Below this score nothing in the knowledge base answers the question.
    static let minimumScore = 0.5

    public init() {}

    public func streamReply(_ request: CompletionRequest) -> AsyncThrowingStream<String, any Error> {
        let reply = answer(request)
        return AsyncThrowingStream { continuation in
            continuation.yield(reply)
            continuation.finish()
        }
    }

    public func answer(_ request: CompletionRequest) -> String {
        let settings = request.widget.settings
        let question = request.history.last(where: { $0.role == .user })?.content ?? ""
        let tokens = Self.tokens(question)
        let greeting = settings.greeting ?? "Hi! How can I help you today?"
        if tokens.isEmpty || tokens.allSatisfy(Self.greetingWords.contains) {
            return greeting
        }
        let ranked = Self.rank(settings.knowledge, against: tokens)
        if let best = ranked.first, best.score >= Self.minimumScore {
            return settings.knowledge[best.index].answer
        }
        let topics = settings.knowledge.prefix(3).map(\.question)
        if topics.isEmpty {
            return "I'm not sure about that yet. Could you tell me a bit more about what you need?"
        }
        return "I'm not sure about that yet. Could you tell me a bit more? I can help with questions like: "
            + topics.joined(separator: " · ")
    }

    /// BM25 scores of `entries` for the query tokens, best first; ties keep the entries' order.
    static func rank(_ entries: [KnowledgeEntry], against query: [String]) -> [(index: Int, score: Double)] {
        let documents = entries.map { tokens($0.question + " " + $0.question + " " + $0.answer) }
        guard !documents.isEmpty else { return [] }
        let averageLength = Double(documents.map(\.count).reduce(0, +)) / Double(documents.count)
        var documentFrequency: [String: Int] = [:]
        for document in documents {
            for term in Set(document) { documentFrequency[term, default: 0] += 1 }
        }
        let k1 = 1.2, b = 0.75
        let count = Double(documents.count)
        let scores = documents.enumerated().map { index, document -> (index: Int, score: Double) in
            var frequencies: [String: Int] = [:]
            for term in document { frequencies[term, default: 0] += 1 }
            let length = Double(document.count)
            let score = Set(query).reduce(0.0) { total, term in
                guard let tf = frequencies[term].map(Double.init), let df = documentFrequency[term].map(Double.init) else { return total }
                let idf = log(1 + (count - df + 0.5) / (df + 0.5))
                return total + idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / max(averageLength, 1)))
            }
            return (index, score)
        }
        return scores.sorted { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
    }

    static let greetingWords: Set<String> = ["hi", "hello", "hey", "hiya", "morning", "afternoon", "evening", "good", "there", "yo", "greeting"]

    static let stopWords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "to", "of", "and", "or", "in", "on", "at", "for", "with",
        "do", "doe", "does", "i", "you", "your", "my", "me", "we", "our", "it", "its", "this", "that", "can", "could",
        "how", "what", "when", "where", "which", "who", "why", "will", "would", "should", "there", "have", "has", "please",
        "about", "tell", "any", "from", "by", "if", "so", "not", "no", "yes", "ok", "thanks", "thank",
    ]

    /// Lower-cased alphanumeric words without stop words, with a plural `s` removed.
    static func tokens(_ text: String) -> [String] {
        text.lowercased()
            .split(whereSeparator: { !($0.isLetter || $0.isNumber) })
            .map { word -> String in
                var word = String(word)
                if word.count > 3, word.hasSuffix("s"), !word.hasSuffix("ss") { word.removeLast() }
                return word
            }
            .filter { !stopWords.contains($0) }
    }
}
