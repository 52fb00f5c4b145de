import Handlers
import PropertyBased
import Testing

/// Redaction over generated cards, phone numbers, IBANs and addresses written the ways people and
/// probes write them: any runs of separators, digits of any script, letters touching them.
@Suite("PII redaction properties")
struct PIIRedactorPropertyTests {
    let redactor = PIIRedactor()

    // MARK: Generators

    static let digitScripts: [[Character]] = [
        "0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯", "๐๑๒๓๔๕๖๗๘๙", "０１２３４５６７８９", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
    ].map(Array.init)
    /// Runs of separators between digits; no separator at all three times as often as any one run.
    static let separatorRuns = ["", "", "", " ", "  ", "-", " - ", ".", "/", " / ", "_", "\u{2013}", " \u{2013} ", "\u{2014}", " \u{2014} ",
                                "\u{00A0}", "\u{3000}"]
    /// Letters glued to a number, Latin and not.
    static let glue = Gen<Character?>.element(of: Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéжσ日")).compactMap { $0 }
        .string(of: 0...5)
    static let digits = Gen.int(in: 0...9)

    /// How a number is written: for each of up to 34 digits, its script and the separators before it.
    struct Spelling: Sendable {
        let scripts: [[Character]]
        let separators: [String]

        func write(_ digits: some Collection<Int>) -> String {
            var text = ""
            for (index, digit) in digits.enumerated() {
                if index > 0 { text += separators[index] }
                text.append(scripts[index][digit])
            }
            return text
        }
    }

    static let spelling = zip(
        Gen<[Character]?>.element(of: digitScripts).compactMap { $0 }.array(of: 34),
        Gen<String?>.element(of: separatorRuns).compactMap { $0 }.array(of: 34)
    ).map { Spelling(scripts: $0, separators: $1) }

    /// A text and the number in it, to report a failure by.
    struct Sample: Sendable, CustomStringConvertible {
        let text: String
        var description: String { text.debugDescription }
    }

    /// 13–19 digits ending in their Luhn check digit, spelt at random, letters glued on either side.
    static let cards = zip(digits.array(of: 12...18), spelling, glue, glue).map { body, spelling, before, after in
        Sample(text: before + spelling.write(body + [luhnCheckDigit(for: body)]) + after)
    }

    static func luhnCheckDigit(for body: [Int]) -> Int {
        // The check digit will be last, so the body's last digit is the first one doubled.
        let sum = body.reversed().enumerated().reduce(0) { sum, element in
            let (offset, digit) = element
            return sum + (offset % 2 == 0 ? (digit < 5 ? digit * 2 : digit * 2 - 9) : digit)
        }
        return (10 - sum % 10) % 10
    }

    /// The shapes of phone numbers the redactor promises to find.
    enum PhoneStyle: CaseIterable, Sendable {
        /// `+` and 7–15 digits.
        case international
        /// 2–5 digits in parentheses, then the rest: 7–15 digits in all.
        case areaCode
        /// 9–15 digits in two or more groups.
        case grouped
        /// 10–15 digits.
        case plain
    }

    static let phones = zip(Gen<PhoneStyle>.case, digits.array(of: 15), Gen.int(in: 0...8), Gen.int(in: 1...14), spelling,
                            Gen<String?>.element(of: separatorRuns.filter { !$0.isEmpty }).compactMap { $0 }, glue, glue)
        .map { style, digits, lengthChoice, cutChoice, spelling, separator, before, after in
            let number: String
            switch style {
            case .international:
                number = "+" + spelling.write(digits.prefix(7 + lengthChoice))
            case .areaCode:
                let length = 7 + lengthChoice
                let areaCode = 2 + cutChoice % 4
                number = "(" + spelling.write(digits.prefix(areaCode)) + ")" + separator + spelling.write(digits[areaCode..<length])
            case .grouped:
                let length = 9 + lengthChoice % 7
                let cut = 1 + cutChoice % (length - 1)
                number = spelling.write(digits.prefix(cut)) + separator + spelling.write(digits[cut..<length])
            case .plain:
                number = spelling.write(digits.prefix(10 + lengthChoice % 6))
            }
            return Sample(text: before + number + after)
        }

    /// Countries and the length of their IBANs, from the IBAN registry's examples.
    static let ibanCountries: [(code: String, length: Int)] = [
        ("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("NO", 15), ("BE", 16), ("MT", 31), ("LC", 32), ("RU", 33), ("BR", 29),
    ]
    static let ibanCharacters = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    enum LetterCase: CaseIterable, Sendable { case upper, lower, mixed }

    /// Valid IBANs (random account numbers, their check digits computed), in either case, printed
    /// in groups of four or not, letters glued on either side.
    static let ibans = zip(Gen.int(in: 0...(ibanCountries.count - 1)),
                           Gen<Character?>.element(of: ibanCharacters).compactMap { $0 }.array(of: 30),
                           Gen<LetterCase>.case, Gen.bool, glue, glue)
        .map { countryIndex, characters, letterCase, printed, before, after in
            let (country, length) = ibanCountries[countryIndex]
            let account = String(characters.prefix(length - 4))
            let check = 98 - mod97(account + country + "00")
            var iban = country + (check < 10 ? "0" : "") + String(check) + account
            switch letterCase {
            case .upper: break
            case .lower: iban = iban.lowercased()
            case .mixed: iban = String(iban.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.lowercased()) : $0.element })
            }
            if printed {
                iban = stride(from: 0, to: iban.count, by: 4).map { String(iban.dropFirst($0).prefix(4)) }.joined(separator: " ")
            }
            return (before: before, iban: iban, after: after)
        }

    /// ISO 7064 mod 97-10 of digits and upper-case letters, letters counting 10–35.
    static func mod97(_ text: String) -> Int {
        text.reduce(0) { remainder, character in
            let value = character.wholeNumberValue ?? Int(character.asciiValue ?? 0) - Int(Character("A").asciiValue ?? 0) + 10
            return (remainder * (value < 10 ? 10 : 100) + value) % 97
        }
    }

    /// RFC 5322 atext, with letters beyond ASCII.
    static let atext = Array("abcxyzABCXYZ0189!#$%&'*+-/=?^_`{|}~éж")
    static let atom = Gen<Character?>.element(of: atext).compactMap { $0 }.string(of: 1...8)
    static let label = Gen<Character?>.element(of: Array("abcdefghijklmnopqrstuvwxyz0123456789éж日")).compactMap { $0 }.string(of: 1...10)
    static let topLevelLabel = Gen<Character?>.element(of: Array("abcdefghijklmnopqrstuvwxyzжд")).compactMap { $0 }.string(of: 2...6)

    /// Addresses whose local parts hold dots, apostrophes (straight and typographic) and plus tags.
    static let emails = zip(atom.array(of: 1...3), Gen<String?>.element(of: ["", "'", "’"]).compactMap { $0 },
                            Gen.letter.string(of: 1...8), atom.optional, label.array(of: 1...3), topLevelLabel)
        .map { atoms, apostrophe, name, tag, labels, topLevel in
            let local = atoms.joined(separator: ".") + apostrophe + name + (tag.map { "+" + $0 } ?? "")
            return (local: local, address: local + "@" + (labels + [topLevel]).joined(separator: "."))
        }

    /// Text with neither digits nor `@`: letters of several scripts, punctuation, the separators
    /// numbers are written with, line breaks, emoji.
    static let prose = Gen<Character?>.element(of: Array("abcdefgh XYZ .,;:!?-–—()'\"/_+#$%&*\n\téжσ日😀")).compactMap { $0 }
        .string(of: 0...200)

    /// Words with small numbers, prices, times, years, dates and date ranges between them.
    static let ordinaryNumbers = zip(Gen.int(in: 0...6), Gen.int(in: 0...99_999), Gen.int(in: 1900...2099), Gen.int(in: 1...12),
                                     Gen.int(in: 1...28), Gen.int(in: 0...23), Gen.int(in: 0...59), Gen.letter.string(of: 1...8))
        .map { kind, number, year, month, day, hour, minute, word in
            func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            let date = "\(year)-\(twoDigits(month))-\(twoDigits(day))"
            let token = switch kind {
            case 0: "\(number)"
            case 1: "$\(number / 100).\(twoDigits(number % 100))"
            case 2: "\(twoDigits(hour)):\(twoDigits(minute))"
            case 3: "\(date) \(twoDigits(hour)):\(twoDigits(minute))"
            case 4: "\(date) - \(year)-\(twoDigits(month))-\(twoDigits(day % 28 + 1))"
            case 5: "(\(date))"
            default: "\(twoDigits(day)).\(twoDigits(month)).\(year) – \(twoDigits(day)).\(twoDigits(month)).\(year)"
            }
            return word + " " + token
        }
        .array(of: 1...8).map { $0.joined(separator: " ") }

    // MARK: Properties

    /// The longest run of consecutive decimal digits (of any script) in `text`.
    static func longestDigitRun(in text: String) -> Int {
        var longest = 0
        var current = 0
        for scalar in text.unicodeScalars {
            current = scalar.properties.generalCategory == .decimalNumber ? current + 1 : 0
            longest = max(longest, current)
        }
        return longest
    }

    @Test("no run of a card's digits survives, however it is spelt and whatever letters touch it")
    func cardsNeverSurvive() async {
        await propertyCheck(input: Self.cards) { card in
            let redacted = redactor.redact(card.text)
            // One or two digits glued to a word stay with it when the rest is a card by itself.
            #expect(Self.longestDigitRun(in: redacted) <= 2, "\(card) became \(redacted.debugDescription)")
        }
    }

    @Test("no run of a phone number's digits survives, however it is spelt and whatever letters touch it")
    func phonesNeverSurvive() async {
        await propertyCheck(input: Self.phones) { phone in
            let redacted = redactor.redact(phone.text)
            #expect(Self.longestDigitRun(in: redacted) <= 2, "\(phone) became \(redacted.debugDescription)")
        }
    }

    @Test("a valid IBAN is replaced whole, in either case, printed or not, letters glued to it kept")
    func ibansAreReplacedWhole() async {
        await propertyCheck(input: Self.ibans) { sample in
            #expect(redactor.redact(sample.before + sample.iban + sample.after) == sample.before + "[iban]" + sample.after)
        }
    }

    @Test("an address is replaced whole, apostrophes and plus tags in its local part, punctuation after it kept")
    func addressesAreReplacedWhole() async {
        await propertyCheck(input: Self.emails, Gen<String?>.element(of: ["", ".", ",", "!", ")"]).compactMap { $0 }) { email, after in
            #expect(redactor.redact("write to \(email.address)\(after) today") == "write to [email]\(after) today")
        }
    }

    @Test("text without digits or @ is returned as it is")
    func proseIsUnchanged() async {
        await propertyCheck(input: Self.prose) { text in
            #expect(redactor.redact(text) == text)
        }
    }

    @Test("small numbers, prices, times, years, dates and date ranges between words survive")
    func ordinaryNumbersSurvive() async {
        await propertyCheck(input: Self.ordinaryNumbers) { text in
            #expect(redactor.redact(text) == text)
        }
    }
}
