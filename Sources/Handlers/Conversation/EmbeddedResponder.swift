#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#endif

/// The offline AI provider: deterministic replies from the widget's greeting and knowledge entries,
/// so that the whole product works locally with no key and fixtures replay byte for byte.
///
/// Entries are ranked against the question with BM25 over lower-cased, lightly stemmed word tokens.
public struct EmbeddedResponder: HistoryBounded, ImmediateReplying {
    /// Below this score nothing in the knowledge base answers the question.
    static let minimumScore = 0.5

    /// Each widget's knowledge, tokenised once: ranking a question then costs a few dictionary
    /// lookups instead of re-tokenising every entry. Owned by this responder (one per function
    /// instance), so it lives exactly as long as the function that uses it; 256 widgets is enough
    /// for every widget of a stage or a Lambda sandbox.
    private let indexes = DerivedValueCache<[KnowledgeEntry], KnowledgeIndex>(capacity: 256)

    public init() {}

    /// None: `answer` reads only the last user turn, which is always the new message, so the stored
    /// conversation would be read (up to 99 messages a turn) only to be ignored.
    public var earlierTurnsRead: Int { 0 }

    /// The answer is computed, never waited for: a few dictionary lookups.
    public func immediateReply(_ request: CompletionRequest) -> String {
        answer(request)
    }

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
        let index = indexes.value(for: request.widget.widgetId, source: settings.knowledge, derive: KnowledgeIndex.init)
        if let best = index.best(for: tokens), best.score >= Self.minimumScore {
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
        KnowledgeIndex(entries).rank(query)
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
        asciiWords(text) ?? characterWords(text)
    }

    /// `words` over `Character`s, for any text.
    static func characterWords(_ text: String) -> [String] {
        text.lowercased()
            .split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "'") })
            .map { String($0).trimmingApostrophes() }
            .filter { !$0.isEmpty }
    }

    /// `words` for ASCII text, over its UTF-8 bytes rather than `Character`s (the same result: in
    /// ASCII the letters are A-Z and a-z, the numbers 0-9, and only CR LF forms a multi-scalar
    /// grapheme, which is a separator either way); nil for any other text.
    static func asciiWords(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            var words: [String] = []
            var start = 0
            var index = 0
            func flush(upTo end: Int) {
                // Apostrophes at either end of a word are not part of it.
                var lower = start, upper = end
                while lower < upper, bytes[lower] == UInt8(ascii: "'") { lower += 1 }
                while upper > lower, bytes[upper - 1] == UInt8(ascii: "'") { upper -= 1 }
                if lower < upper {
                    words.append(String(unsafeUninitializedCapacity: upper - lower) { buffer in
                        for offset in lower..<upper {
                            let byte = bytes[offset]
                            buffer[offset - lower] = byte.isASCIIUppercaseLetter ? byte | 0x20 : byte
                        }
                        return upper - lower
                    })
                }
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte >= 0x80 { return nil }
                let isWordByte = byte.isASCIILowercaseLetter || byte.isASCIIUppercaseLetter || byte.isASCIIDigit || byte == UInt8(ascii: "'")
                if !isWordByte {
                    if start < index { flush(upTo: index) }
                    start = index + 1
                }
                index += 1
            }
            if start < bytes.count { flush(upTo: bytes.count) }
            return words
        }
    }

    /// Content words without stop words, stemmed so that inflections meet: "shipping" and "ships"
    /// find "ship", "pricing" finds "price", "delivery" finds "deliver".
    static func tokens(_ text: String) -> [String] {
        words(text).filter { !stopWords.contains($0) }.map(stem)
    }

    /// A light suffix stemmer (a small subset of Porter's step 1, then truncation): crude, but the
    /// same word forms meet on both sides of the match, which is all ranking needs.
    static func stem(_ word: String) -> String {
        asciiStem(word) ?? characterStem(word)
    }

    /// `stem` over `Character`s, for any word.
    static func characterStem(_ word: String) -> String {
        String(stemmed(Array(word)) { Character(Unicode.Scalar($0)) })
    }

    /// `stem` for an ASCII word, over its UTF-8 bytes (the same result: in ASCII every byte is one
    /// `Character`, and CR LF never occurs inside a word); nil for any other word. Every message and
    /// every knowledge entry is stemmed word by word, and counting and comparing `Character`s was
    /// a third of answering.
    static func asciiStem(_ word: String) -> String? {
        guard word.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        return String(decoding: stemmed(Array(word.utf8)) { $0 }, as: UTF8.self)
    }

    /// The stemmer's rules over a word's letters — bytes for an ASCII word, `Character`s for any
    /// other — so that both follow one list of rules; `letter` is the letter of an ASCII byte of the
    /// rules' literals.
    private static func stemmed<Letter: Equatable>(_ word: [Letter], _ letter: @escaping (UInt8) -> Letter) -> ArraySlice<Letter> {
        var stem = word
        func spelled(_ literal: StaticString) -> LazyMapSequence<UnsafeBufferPointer<UInt8>, Letter> {
            UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount).lazy.map(letter)
        }
        func hasSuffix(_ suffix: StaticString) -> Bool {
            stem.count >= suffix.utf8CodeUnitCount && stem.suffix(suffix.utf8CodeUnitCount).elementsEqual(spelled(suffix))
        }
        func strip(_ suffix: StaticString, minimumStem: Int, replacement: StaticString = "") -> Bool {
            guard hasSuffix(suffix), stem.count - suffix.utf8CodeUnitCount >= minimumStem else { return false }
            stem.removeLast(suffix.utf8CodeUnitCount)
            stem += spelled(replacement)
            return true
        }
        if hasSuffix("'s") { stem.removeLast(2) }
        if !strip("ies", minimumStem: 2, replacement: "y"), !strip("sses", minimumStem: 2, replacement: "ss"), !hasSuffix("ss"), !hasSuffix("us") {
            _ = strip("s", minimumStem: 3)
        }
        if strip("ing", minimumStem: 3) || strip("ed", minimumStem: 3) {
            // "shipp" -> "ship", but "fall" and "pass" keep their double letters.
            if let last = stem.last, stem.count > 3, stem[stem.count - 2] == last, !spelled("lszaeiou").contains(last) {
                stem.removeLast()
            }
        }
        if stem.count > 3, hasSuffix("e") { stem.removeLast() }
        if stem.count > 4, hasSuffix("y") { stem.removeLast() }
        return stem.prefix(8)
    }
}

/// The BM25 statistics of one knowledge base: each entry tokenised once, as postings per term.
struct KnowledgeIndex: Sendable {
    /// For each term, the entries holding it and how often: (entry index, term frequency).
    private let postings: [String: [(document: Int, frequency: Int)]]
    private let lengths: [Double]
    private let averageLength: Double

    init(_ entries: [KnowledgeEntry]) {
        var postings: [String: [(document: Int, frequency: Int)]] = [:]
        var lengths: [Double] = []
        lengths.reserveCapacity(entries.count)
        for (document, entry) in entries.enumerated() {
            let terms = EmbeddedResponder.tokens(entry.question + " " + entry.question + " " + entry.answer)
            lengths.append(Double(terms.count))
            var frequencies: [String: Int] = [:]
            var order: [String] = []
            for term in terms {
                if frequencies[term] == nil { order.append(term) }
                frequencies[term, default: 0] += 1
            }
            for term in order { postings[term, default: []].append((document, frequencies[term] ?? 0)) }
        }
        self.postings = postings
        self.lengths = lengths
        averageLength = entries.isEmpty ? 0 : lengths.reduce(0, +) / Double(entries.count)
    }

    /// BM25 scores of every entry for the query tokens, by entry index.
    func scores(_ query: [String]) -> [Double] {
        var scores = [Double](repeating: 0, count: lengths.count)
        guard !lengths.isEmpty else { return scores }
        let k1 = 1.2, b = 0.75
        let count = Double(lengths.count)
        var seen: Set<String> = []
        for term in query where seen.insert(term).inserted {
            guard let documents = postings[term] else { continue }
            let df = Double(documents.count)
            let idf = log(1 + (count - df + 0.5) / (df + 0.5))
            for (document, frequency) in documents {
                let tf = Double(frequency)
                scores[document] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[document] / max(averageLength, 1)))
            }
        }
        return scores
    }

    /// Every entry's score, best first; ties keep the entries' order.
    func rank(_ query: [String]) -> [(index: Int, score: Double)] {
        guard !lengths.isEmpty else { return [] }
        return scores(query).enumerated().map { (index: $0.offset, score: $0.element) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
    }

    /// The best entry (the first of equals), as `rank(query).first` without sorting.
    func best(for query: [String]) -> (index: Int, score: Double)? {
        var best: (index: Int, score: Double)?
        for (index, score) in scores(query).enumerated() where best.map({ score > $0.score }) ?? true {
            best = (index, score)
        }
        return best
    }
}

private extension String {
    func trimmingApostrophes() -> String {
        String(drop(while: { $0 == "'" }).reversed().drop(while: { $0 == "'" }).reversed())
    }
}
