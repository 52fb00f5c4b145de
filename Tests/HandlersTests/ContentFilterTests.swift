@testable import Handlers
import Testing

/// What the content filter refuses, rule by rule, and proof that its byte scan of ASCII messages
/// decides exactly as its `Character` scan does.
@Suite("Content filter")
struct ContentFilterTests {
    let filter = ContentFilter(blockedKeywords: ["Spam", "bad word", "x"])

    @Test("each rule names itself", arguments: [
        ("see http://example.com", "url"), ("WWW.shop.example", "url"), ("ftp://files", "url"),
        ("<b>hi</b>", "html_tag"), ("<!-- y", nil), ("<!-- comment -->", "html_tag"),
        ("click javascript:alert(1)", "dangerous_scheme"), ("DATA:text/html,hi", "dangerous_scheme"),
        ("aaaaaaaaaaa", "repeated_characters"), ("#$%^&*()!@", "special_characters"),
        ("this is SPAM!", "keyword:spam"), ("a bad word here", "keyword:bad word"),
    ] as [(String, String?)])
    func rules(message: String, rule: String?) {
        #expect(filter.violation(in: message) == rule)
    }

    @Test("ordinary questions, prose about schemes and comparisons pass", arguments: [
        "How long does shipping take?", "I love javascript: it is fun", "metadata:yes", "is a < b > c?",
        "spammer", "xylophone", "ok!!", "?", "aaaaaaaaaa",
    ])
    func acceptable(message: String) {
        #expect(filter.violation(in: message) == nil)
    }

    @Test("CR LF is one character: ten of them are not a run of eleven, and it is whitespace")
    func crlfIsOneCharacter() {
        #expect(filter.violation(in: String(repeating: "\r\n", count: 10) + "ok") == nil)
        #expect(filter.violation(in: String(repeating: "\r\n", count: 11)) == "repeated_characters")
        #expect(filter.violation(in: "data:\r\ny") == nil)
    }

    @Test("text beyond ASCII is judged over Characters", arguments: [
        ("Crème brûlée, s'il vous plaît?", nil), ("ééééééééééé", "repeated_characters"),
        ("👍👍👍 great 👍", nil), ("«»«»‹›‹›«»", "special_characters"), ("Ünïcödé spam", "keyword:spam"),
    ] as [(String, String?)])
    func beyondASCII(message: String, rule: String?) {
        #expect(filter.violation(in: message) == rule)
    }

    @Test("on generated ASCII messages the byte scan gives the Character scan's verdict")
    func asciiScanMatchesCharacterScan() throws {
        let pieces = ["http://", "www.", "ftp:/", "<", ">", "</", "<!", "javascript:", "data:", "vbscript", ":",
                      "spam", "SPAM", "bad word", "x", " ", "\t", "\r\n", "\r", "\n", "a", "A", "z", "1", "!", "#", "'",
                      ".", "/", "aaaaa", "\u{7}", "\u{1F}", "\u{7F}"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let message = (0..<Int.random(in: 0...24, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
            let text = try #require(ASCIIText(message))
            #expect(filter.asciiViolation(in: text) == filter.characterViolation(in: message), "\(message.debugDescription)")
        }
    }

    @Test("a tag scan over hostile input stays linear: 200,000 unclosed tags", .timeLimit(.minutes(1)))
    func hostileTagInput() {
        #expect(filter.violation(in: String(repeating: "<a", count: 200_000)) == nil)
        #expect(filter.violation(in: String(repeating: "<a", count: 200_000) + ">") == "html_tag")
    }
}
