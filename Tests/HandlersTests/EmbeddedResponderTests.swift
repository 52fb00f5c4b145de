import Foundation
@testable import Handlers
import Testing

/// The offline responder must hold a real conversation about the widget's knowledge, and say so
/// honestly when it has no answer.
@Suite("Embedded responder")
struct EmbeddedResponderTests {
    let widget = DemoWidget.make(createdAt: Date(timeIntervalSince1970: 0))

    func reply(_ message: String, widget: WidgetConfig? = nil) -> String {
        EmbeddedResponder().answer(CompletionRequest(widget: widget ?? self.widget, history: [ChatTurn(role: .user, content: message)],
                                                     deadline: Date(timeIntervalSince1970: 0)))
    }

    func answer(containing text: String) throws -> String {
        try #require(widget.settings.knowledge.first { $0.answer.contains(text) }).answer
    }

    @Test("other forms of a word find the entry: deliver/delivery, shipping/ship, pricing/prices")
    func inflections() throws {
        #expect(reply("Do you deliver to Norway?") == (try answer(containing: "Orders ship")))
        #expect(reply("When will my order be shipped?") == (try answer(containing: "Orders ship")))
        #expect(reply("What is your pricing?") == (try answer(containing: "Starter plan")))
    }

    @Test("the stemmer makes word forms meet", arguments: [
        ("shipping", "ship"), ("ships", "ship"), ("delivery", "deliver"), ("prices", "pric"), ("pricing", "pric"),
        ("returns", "return"), ("hours", "hour"), ("business", "business"), ("policies", "polic"), ("opening", "open"),
    ])
    func stems(word: String, stem: String) {
        #expect(EmbeddedResponder.stem(word) == stem)
    }

    @Test("ASCII words stem the same over bytes as over Characters")
    func asciiStemsMatchCharacterStems() {
        // Suffix letters over-represented, so that every rule fires, alone and in sequence.
        let alphabet = Array("abeilnpsdgyzu'")
        var generator = SystemRandomNumberGenerator()
        var samples = ["", "s", "'s", "ss", "ies", "sses", "ing", "ed", "shipping", "falling", "passed", "buzzed", "policies"]
        samples += (0..<5000).map { _ in
            String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "s" })
        }
        for word in samples {
            #expect(EmbeddedResponder.asciiStem(word) == EmbeddedResponder.characterStem(word), "\(word.debugDescription)")
        }
        #expect(EmbeddedResponder.asciiStem("crèmes") == nil)
        #expect(EmbeddedResponder.stem("crèmes") == "crèm")
    }

    @Test("ASCII text splits into the same words over bytes as over Characters")
    func asciiWordsMatchCharacterWords() {
        let alphabet = Array("abcXYZ019' .,!?-_\t\r\n\"Q")
        var generator = SystemRandomNumberGenerator()
        var samples = ["", "'", "''", "Don't", "'quoted'", "rock'n'roll", "CR\r\nLF", "How long does SHIPPING take?"]
        samples += (0..<2000).map { _ in
            String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? " " })
        }
        for text in samples {
            #expect(EmbeddedResponder.asciiWords(text) == EmbeddedResponder.characterWords(text), "\(text.debugDescription)")
        }
        #expect(EmbeddedResponder.asciiWords("Crème brûlée") == nil)
        #expect(EmbeddedResponder.words("Crème BRÛLÉE") == ["crème", "brûlée"])
    }

    @Test("the cached knowledge index ranks as a fresh one, and an edited widget is re-indexed")
    func knowledgeIndexCache() throws {
        let responder = EmbeddedResponder()
        func ask(_ message: String, _ widget: WidgetConfig) -> String {
            responder.answer(CompletionRequest(widget: widget, history: [ChatTurn(role: .user, content: message)],
                                               deadline: Date(timeIntervalSince1970: 0)))
        }
        #expect(ask("How long does shipping take?", widget) == (try answer(containing: "Orders ship")))
        #expect(ask("How long does shipping take?", widget) == (try answer(containing: "Orders ship")))
        var edited = widget
        edited.settings.knowledge = [KnowledgeEntry(question: "Do you ship abroad?", answer: "Only within the EU."),
                                     KnowledgeEntry(question: "When are you open?", answer: "Nine to five.")]
        #expect(ask("How long does shipping take?", edited) == "Only within the EU.")
        #expect(ask("How long does shipping take?", widget) == (try answer(containing: "Orders ship")))
        let query = EmbeddedResponder.tokens("what is the price of shipping and returns")
        let ranked = EmbeddedResponder.rank(widget.settings.knowledge, against: query)
        #expect(ranked.map(\.index).sorted() == Array(widget.settings.knowledge.indices))
        let best = try #require(KnowledgeIndex(widget.settings.knowledge).best(for: query))
        #expect(best.index == ranked.first?.index && best.score == ranked.first?.score)
    }

    @Test("a greeting gets the widget's greeting")
    func greeting() {
        #expect(reply("Good morning!") == widget.settings.greeting)
        #expect(reply("hi there") == widget.settings.greeting)
    }

    @Test("thanks and goodbyes are answered as such, not as unknown questions")
    func smallTalk() {
        #expect(reply("Thank you so much!").hasPrefix("You're welcome!"))
        #expect(reply("ok bye").hasPrefix("Goodbye"))
    }

    @Test("thanks followed by a question is a question")
    func thanksWithQuestion() throws {
        #expect(reply("Thanks! And how much is Pro?") == (try answer(containing: "Starter plan")))
    }

    @Test("a question the knowledge does not cover asks for more and names what it can help with")
    func unknownQuestion() {
        #expect(reply("Do you sell gift cards?") == "I'm not sure about that yet. Could you tell me a bit more? I can help with questions like: "
            + "What are your opening hours? · How long does shipping take? · What is your return policy?")
    }

    @Test("a widget without knowledge still asks a useful follow-up")
    func noKnowledge() {
        var bare = widget
        bare.settings = WidgetSettings()
        #expect(reply("Do you sell gift cards?", widget: bare) == "I'm not sure about that yet. Could you tell me a bit more about what you need?")
        #expect(reply("hello", widget: bare) == "Hi! How can I help you today?")
    }
}
