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
        let words = Self.words(question)
        let greeting = settings.greeting ?? "Hi! How can I help you today?"
        if Self.isOnly(words, Self.thanksWords, including: Self.thanks) {
            return "You're welcome! Is there anything else I can help you with?"
        }
        if Self.isOnly(words, Self.farewellWords, including: Self.farewells) {
            return "Goodbye, and thanks for stopping by! Come back any time."
        }
        let content = words.filter { !Self.stopWords.contains($0) }
        if content.allSatisfy(Self.greetingWords.contains) {
            return greeting
        }
        let tokens = content.map(Self.stem)
        let ranked = Self.rank(settings.knowledge, against: tokens)
        if let best = ranked.first, best.score >= Self.minimumScore {
            return settings.knowledge[best.index].answer
        }
        // An entry may ask its question several ways; the topic list shows only the first.
        let topics = settings.knowledge.prefix(3).map { entry in
            entry.question.firstIndex(of: "?").map { String(entry.question[...$0]) } ?? entry.question
        }
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

    static let greetingWords: Set<String> = ["hi", "hello", "hey", "hiya", "morning", "afternoon", "evening", "good", "there", "yo",
                                             "greeting", "greetings"]

    /// A message made only of these words, with at least one of `thanks`, is thanks and not a question.
    static let thanks: Set<String> = ["thanks", "thank", "thx", "ty", "cheers"]
    static let thanksWords = thanks.union(["you", "so", "very", "much", "a", "lot", "many", "great", "perfect", "ok", "okay", "cool",
                                           "awesome", "that's", "helpful", "for", "the", "help", "your"])
    /// Likewise a goodbye: only these words, with at least one of `farewells`.
    static let farewells: Set<String> = ["bye", "goodbye", "later", "night", "cya"]
    static let farewellWords = farewells.union(["see", "you", "ya", "good", "have", "a", "nice", "day", "thanks", "ok", "okay", "cheers",
                                                "for", "now"])

    static func isOnly(_ words: [String], _ vocabulary: Set<String>, including required: Set<String>) -> Bool {
        !words.isEmpty && words.allSatisfy(vocabulary.contains) && words.contains(where: required.contains)
    }

    static let stopWords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "to", "of", "and", "or", "in", "on", "at", "for", "with",
        "do", "does", "did", "i", "you", "your", "my", "me", "we", "our", "it", "its", "this", "that", "can", "could",
        "how", "what", "when", "where", "which", "who", "why", "will", "would", "should", "there", "have", "has", "please",
        "about", "tell", "any", "from", "by", "if", "so", "not", "no", "yes", "ok", "thanks", "thank", "i'd", "i'm", "want", "like",
    ]

    /// Lower-cased words: letters, digits and apostrophes.
    static func words(_ text: String) -> [String] {
        text.lowercased()
            .split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "'") })
            .map { String($0).trimmingApostrophes() }
            .filter { !$0.isEmpty }
    }

    /// Content words without stop words, stemmed so that inflections meet: "shipping" and "ships"
    /// find "ship", "pricing" finds "price", "delivery" finds "deliver".
    static func tokens(_ text: String) -> [String] {
        words(text).filter { !stopWords.contains($0) }.map(stem)
    }

    /// A light suffix stemmer (a small subset of Porter's step 1, then truncation): crude, but the
    /// same word forms meet on both sides of the match, which is all ranking needs.
    static func stem(_ word: String) -> String {
        var stem = Substring(word)
        func strip(_ suffix: String, minimumStem: Int, replacement: String = "") -> Bool {
            guard stem.hasSuffix(suffix), stem.count - suffix.count >= minimumStem else { return false }
            stem = stem.dropLast(suffix.count) + replacement
            return true
        }
        if stem.hasSuffix("'s") { stem = stem.dropLast(2) }
        if !strip("ies", minimumStem: 2, replacement: "y"), !strip("sses", minimumStem: 2, replacement: "ss"),
           !stem.hasSuffix("ss"), !stem.hasSuffix("us") {
            _ = strip("s", minimumStem: 3)
        }
        if strip("ing", minimumStem: 3) || strip("ed", minimumStem: 3) {
            // "shipp" -> "ship", but "fall" and "pass" keep their double letters.
            if let last = stem.last, stem.count > 3, stem.dropLast().last == last, !"lsz".contains(last), !"aeiou".contains(last) {
                stem = stem.dropLast()
            }
        }
        if stem.count > 3, stem.hasSuffix("e") { stem = stem.dropLast() }
        if stem.count > 4, stem.hasSuffix("y") { stem = stem.dropLast() }
        return String(stem.prefix(8))
    }
}

private extension String {
    func trimmingApostrophes() -> String {
        String(drop(while: { $0 == "'" }).reversed().drop(while: { $0 == "'" }).reversed())
    }
}
