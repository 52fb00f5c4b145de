import Handlers
import Testing

/// What is redacted before text is stored, logged or sent to a provider, and what ordinary numbers
/// survive (SPEC §4.4).
@Suite("PII redaction")
struct PIIRedactorTests {
    let redactor = PIIRedactor()

    @Test("e-mail addresses, Luhn-valid cards and phone numbers are replaced by markers", arguments: [
        ("write to jane.doe+shop@mail.example.com today", "write to [email] today"),
        ("card 4111 1111 1111 1111 please", "card [card] please"),
        ("card 4111111111111111", "card [card]"),
        ("call +47 912 34 567", "call [phone]"),
        ("call (555) 123-4567 now", "call [phone] now"),
        ("call 5551234567", "call [phone]"),
    ])
    func redacts(text: String, expected: String) {
        #expect(redactor.redact(text) == expected)
    }

    @Test("years, prices, dates, order numbers and Luhn-invalid card-length numbers that are not phones survive", arguments: [
        "It costs 49.99 in 2024", "delivered on 20240115", "order 12345", "version 1.2.3", "4111 1111 1111 1112 1234 5",
        "no numbers here at all", "an @ sign alone", "user@localhost",
    ])
    func leavesOrdinaryText(text: String) {
        #expect(redactor.redact(text) == text)
    }

    @Test("internationalised addresses are whole addresses, and text beyond ASCII around a redaction is kept")
    func unicodeAroundRedaction() {
        #expect(redactor.redact("jane@münchen.de und 用户@例子.中国") == "[email] und [email]")
        #expect(redactor.redact("Grüße 👋 an jürgen@example.de, Tel. +49 30 1234567 — danke") == "Grüße 👋 an [email], Tel. [phone] — danke")
    }

    @Test("the text between and after several redactions is kept exactly, numbers that stay included")
    func textAroundSeveralRedactions() {
        #expect(redactor.redact("Call +44 20 7946 0958 or pay 12.50 by 4111 1111 1111 1111, ref 2024-01") ==
                "Call [phone] or pay 12.50 by [card], ref 2024-01")
        #expect(redactor.redact("5551234567") == "[phone]")
        #expect(redactor.redact("a1 5551234567 b2") == "a1 [phone] b2")
    }
}
