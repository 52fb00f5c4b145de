/// Replaces e-mail addresses, IBANs, card numbers and phone numbers before text is stored, logged
/// or sent to an AI provider (README, “Security model”), whatever the separators, the script of the
/// digits or the letters touching them.
///
/// - An e-mail address is a local part of RFC 5322 atext (`o'brien`, `a+tag`; letters and digits
///   of any script too), `@`, and a domain of two or more labels whose last is two or more letters.
/// - An IBAN is a country code of the IBAN registry, two check digits and as many more letters and
///   digits as that country's IBANs have, in either case, with or without separators between groups
///   of four, passing the ISO 13616 mod-97 check.
/// - A card is 13–19 digits passing the Luhn check. A phone number is 7–15 digits after `+` or
///   starting with an area code in parentheses, 9–15 digits written in several groups, or 10–15
///   digits in one.
///
/// A digit is any Unicode decimal digit (general category Nd: ASCII, full-width, Arabic-Indic, ...).
/// Groups of digits form one *chain* across runs of separators: white space other than line
/// breaks, dashes of any kind (en and em dash among them), `.`, `/`, `_` and parentheses, also in
/// their full-width forms. Within a chain, a card is any run of whole groups, so that a quantity
/// before it or an expiry date after it cannot hide it. A phone number is a run of whole *numbers*:
/// the parts of the chain between separator runs of more than one scalar, parentheses aside
/// (`0171 – 1234567` is two numbers, `(0171) 123-4567` one), so that a phone number is never cut
/// out of a longer number written with single separators. Where candidates overlap, the choice
/// that covers the most digits wins.
///
/// So that ordinary numbers survive: years, prices, times and dates are too short for any of these
/// (`$19.99`, `10:30`, `2024-01-15`, "2 to 4 days"); the hour and the minutes of a time are never
/// part of a number (`2024-01-15 10:30`); a chain of calendar dates and nothing else
/// (`2024-01-15 - 2024-02-15`) is left alone, although its 16 digits pass the Luhn check one time
/// in ten; and one or two digits glued to a word (`a1`) join a card or phone number only when that
/// number needs them.
///
/// Every pass is linear in the length of the text, whatever it holds: no regular expressions, and
/// each scalar is looked at a bounded number of times (a card or phone number spans at most 19
/// digits, an IBAN at most 34 letters and digits). A text with no digit and no `@` is returned as
/// it is after one look at its UTF-8.
public struct PIIRedactor: Sendable {
    public static let emailMarker = "[email]"
    public static let ibanMarker = "[iban]"
    public static let cardMarker = "[card]"
    public static let phoneMarker = "[phone]"

    public init() {}

    public func redact(_ text: String) -> String {
        let (hasDigit, hasAt) = Self.digitAndAt(in: text)
        guard hasDigit || hasAt else { return text }
        var scalars = Array(text.unicodeScalars)
        var redacted = false
        // Addresses first, whose local parts and domains may hold digits; IBANs before the numbers
        // their digits would otherwise partly pass for.
        if hasAt, let rewritten = Self.redactingEmails(in: scalars) {
            scalars = rewritten
            redacted = true
        }
        if hasDigit, let rewritten = Self.redactingIBANs(in: scalars) {
            scalars = rewritten
            redacted = true
        }
        if hasDigit, let rewritten = Self.redactingCardsAndPhones(in: scalars) {
            scalars = rewritten
            redacted = true
        }
        guard redacted else { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Whether `text` holds a decimal digit of any script, and an `@`. Non-ASCII scalars are looked
    /// up only when the text has non-ASCII and no ASCII digit.
    private static func digitAndAt(in text: String) -> (hasDigit: Bool, hasAt: Bool) {
        var hasDigit = false
        var hasAt = false
        var hasNonASCII = false
        for byte in text.utf8 {
            if byte.isASCIIDigit {
                hasDigit = true
            } else if byte == UInt8(ascii: "@") {
                hasAt = true
            } else if byte >= 0x80 {
                hasNonASCII = true
            }
        }
        if !hasDigit, hasNonASCII {
            hasDigit = text.unicodeScalars.contains { $0.decimalDigitValue != nil }
        }
        return (hasDigit, hasAt)
    }
}

// MARK: - E-mail addresses

extension PIIRedactor {
    /// Each `@` with a local part before it and a domain after it, local part to domain.
    ///
    /// The local part is looked for no further back than the end of the previous address, and the
    /// domain no further than the next `@` (which neither may contain): each scalar between two
    /// `@`s is looked at at most twice.
    private static func redactingEmails(in scalars: [Unicode.Scalar]) -> [Unicode.Scalar]? {
        var rewrite = Rewrite(of: scalars)
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "@" else {
                index += 1
                continue
            }
            var start = index
            while start > rewrite.copiedUpTo, scalars[start - 1].isEmailLocalPart { start -= 1 }
            var end = index + 1
            while end < scalars.count, scalars[end].isEmailDomain { end += 1 }
            // A sentence's full stop (or a dash) after the address is not part of its domain.
            while end > index + 1, scalars[end - 1] == "." || scalars[end - 1] == "-" { end -= 1 }
            if start < index, isDomain(scalars[(index + 1)..<end]) {
                rewrite.replace(start..<end, with: emailMarker)
                index = end
            } else {
                index += 1
            }
        }
        return rewrite.finished()
    }

    /// Two or more non-empty labels, the last of two or more letters: `example.com` or `例子.中国`,
    /// not `localhost` (so that "user@localhost" in a question about a setup survives).
    private static func isDomain(_ domain: ArraySlice<Unicode.Scalar>) -> Bool {
        var labels = 1
        var labelLength = 0
        var labelIsAlphabetic = true
        for scalar in domain {
            if scalar == "." {
                guard labelLength > 0 else { return false }
                labels += 1
                labelLength = 0
                labelIsAlphabetic = true
            } else {
                labelLength += 1
                labelIsAlphabetic = labelIsAlphabetic && scalar.properties.isAlphabetic
            }
        }
        return labels >= 2 && labelLength >= 2 && labelIsAlphabetic
    }
}

// MARK: - IBANs

extension PIIRedactor {
    /// Each IBAN: two letters of a registry country touching two digits (`DE89`, `de89`, also
    /// glued to the word before), then the country's number of letters and digits, passing the
    /// mod-97 check. Runs of separators may stand between groups of four, where IBANs are printed
    /// with spaces, and nowhere else: the words after a postcode (`SE65 2AB is our postcode`) are
    /// not read as its letters.
    ///
    /// A candidate is read for at most 34 letters and digits; candidates start at least 4 scalars
    /// apart (letter, letter, digit, digit), so each scalar is read for at most 9 of them.
    private static func redactingIBANs(in scalars: [Unicode.Scalar]) -> [Unicode.Scalar]? {
        var rewrite = Rewrite(of: scalars)
        var index = 0
        while index + 4 <= scalars.count {
            if let end = ibanEnd(in: scalars, from: index) {
                rewrite.replace(index..<end, with: ibanMarker)
                index = end
            } else {
                index += 1
            }
        }
        return rewrite.finished()
    }

    /// Where the IBAN starting at `start` ends, if one does.
    private static func ibanEnd(in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard let country1 = scalars[start].ibanLetterValue, let country2 = scalars[start + 1].ibanLetterValue,
              let check1 = scalars[start + 2].decimalDigitValue, let check2 = scalars[start + 3].decimalDigitValue
        else { return nil }
        let length = Int(ibanLengthByCountry[(country1 - 10) * 26 + (country2 - 10)])
        guard length > 0 else { return nil }
        // ISO 13616: the number with its first four characters moved to the end, letters read as
        // 10–35, leaves 1 when divided by 97. Computed as the characters come, two-digit values
        // (letters) shifting the remainder by 100.
        func appending(_ value: Int, to remainder: Int) -> Int {
            (remainder * (value < 10 ? 10 : 100) + value) % 97
        }
        var remainder = 0
        var position = start + 4
        for read in 4..<length {
            var next = position
            if read % 4 == 0 {
                while next < scalars.count, scalars[next].joinsDigits { next += 1 }
            }
            guard next < scalars.count, let value = scalars[next].ibanCharacterValue else { return nil }
            remainder = appending(value, to: remainder)
            position = next + 1
        }
        for value in [country1, country2, check1, check2] { remainder = appending(value, to: remainder) }
        return remainder == 1 ? position : nil
    }

    /// The length of each country's IBANs (0: the country has none), indexed by the country code's
    /// letters as `first * 26 + second`, A being 0: the countries of the SWIFT IBAN registry
    /// (release 100). Territories that issue IBANs under another country's code (Åland under FI,
    /// Jersey under GB, Réunion under FR, ...) need no entry.
    private static let ibanLengthByCountry: [UInt8] = {
        let registry: KeyValuePairs<String, UInt8> = [
            "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
            "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
            "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
            "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
            "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
            "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
            "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
            "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
            "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
        ]
        var lengths = [UInt8](repeating: 0, count: 26 * 26)
        for (country, length) in registry {
            let letters = country.unicodeScalars.compactMap(\.ibanLetterValue)
            lengths[(letters[0] - 10) * 26 + (letters[1] - 10)] = length
        }
        return lengths
    }()
}

// MARK: - Cards and phone numbers

extension PIIRedactor {
    private static let cardDigits = 13...19
    private static let phoneDigits = 7...15

    /// The cards and phone numbers of each chain of digits.
    private static func redactingCardsAndPhones(in scalars: [Unicode.Scalar]) -> [Unicode.Scalar]? {
        var rewrite = Rewrite(of: scalars)
        var index = 0
        while index < scalars.count {
            guard scalars[index].decimalDigitValue != nil else {
                index += 1
                continue
            }
            let chain = DigitChain(in: scalars, from: index)
            chain.redact(into: &rewrite)
            index = chain.end
        }
        return rewrite.finished()
    }

    /// Groups of digits joined by runs of separators, as they stand in the text.
    private struct DigitChain {
        /// A maximal run of digits: `start..<end` in the text, `digits` among the chain's digits.
        struct Group {
            let start: Int
            let end: Int
            let digits: Range<Int>
            /// Whether the run of separators before it is longer than one scalar, parentheses
            /// aside (`0171 – 1234567`, not `(0171) 123-4567`): it then starts a number of its own.
            let followsLongSeparator: Bool
            /// Whether the run of separators before it closes a parenthesis (`(030) 1234567`).
            let followsClosingParenthesis: Bool
        }

        private let scalars: [Unicode.Scalar]
        private var groups: [Group] = []
        /// The chain's digits, for the date check.
        private var digits: [Int] = []
        /// Luhn sums of the digits before each index, taking the digits at even indices as they
        /// are (`evenPlain`) or doubled (`evenDoubled`) and the others the other way: any window's
        /// Luhn sum is the difference of two of them.
        private var evenPlain: [Int] = [0]
        private var evenDoubled: [Int] = [0]
        /// Whether a letter touches the first group from before, or the last group from after
        /// (`visa4539…`, `…6467exp`, `a1`).
        private let gluedBefore: Bool
        private var gluedAfter = false

        /// Where the chain ends in the text: after its last digit.
        var end: Int { groups[groups.count - 1].end }

        /// The chain whose first digit is at `start`.
        init(in scalars: [Unicode.Scalar], from start: Int) {
            self.scalars = scalars
            gluedBefore = start > 0 && scalars[start - 1].properties.isAlphabetic
            var position = start
            var followsLongSeparator = false
            var followsClosingParenthesis = false
            while true {
                let groupStart = position
                let firstDigit = digits.count
                while position < scalars.count, let digit = scalars[position].decimalDigitValue {
                    digits.append(digit)
                    position += 1
                }
                // The hour or the minutes of a time (`2024-01-15 10:30`) end the chain before them,
                // or make one of their own.
                let isTime = Self.isPartOfTime(groupStart..<position, in: scalars)
                if isTime, !groups.isEmpty {
                    digits.removeSubrange(firstDigit...)
                    break
                }
                for index in firstDigit..<digits.count { appendLuhnSums(of: index) }
                groups.append(Group(start: groupStart, end: position, digits: firstDigit..<digits.count,
                                    followsLongSeparator: followsLongSeparator, followsClosingParenthesis: followsClosingParenthesis))
                if isTime { break }
                var separatorEnd = position
                var separatorsBesidesParentheses = 0
                followsClosingParenthesis = false
                while separatorEnd < scalars.count, scalars[separatorEnd].joinsDigits {
                    if scalars[separatorEnd].isClosingParenthesis {
                        followsClosingParenthesis = true
                    } else if !scalars[separatorEnd].isOpeningParenthesis {
                        separatorsBesidesParentheses += 1
                    }
                    separatorEnd += 1
                }
                guard separatorEnd > position, separatorEnd < scalars.count, scalars[separatorEnd].decimalDigitValue != nil
                else { break }
                followsLongSeparator = separatorsBesidesParentheses > 1
                position = separatorEnd
            }
            let end = groups[groups.count - 1].end
            gluedAfter = end < scalars.count && scalars[end].properties.isAlphabetic
        }

        /// Whether the digits `group` are one or two touching a `:` with a digit beyond it: the
        /// hour or the minutes of a time, never part of a card or phone number (which leaves at
        /// most two digits of one to anyone who writes it with a colon in it).
        private static func isPartOfTime(_ group: Range<Int>, in scalars: [Unicode.Scalar]) -> Bool {
            func isColon(_ index: Int) -> Bool { scalars[index] == ":" || scalars[index] == "\u{FF1A}" }
            guard group.count <= 2 else { return false }
            let isHour = group.upperBound + 1 < scalars.count && isColon(group.upperBound)
                && scalars[group.upperBound + 1].decimalDigitValue != nil
            let isMinutes = group.lowerBound >= 2 && isColon(group.lowerBound - 1) && scalars[group.lowerBound - 2].decimalDigitValue != nil
            return isHour || isMinutes
        }

        /// Extends the Luhn sums over the digit at `index`, the next one.
        private mutating func appendLuhnSums(of index: Int) {
            let digit = digits[index]
            let doubled = digit < 5 ? digit * 2 : digit * 2 - 9
            let atEvenIndex = index % 2 == 0
            evenPlain.append(evenPlain[index] + (atEvenIndex ? digit : doubled))
            evenDoubled.append(evenDoubled[index] + (atEvenIndex ? doubled : digit))
        }

        /// Replaces the chain's cards and phone numbers: of the ways to pick windows of groups
        /// that are cards or phone numbers without overlap, one covering the most digits. Dynamic
        /// programming from the last group back; as a window spans at most 19 digits, at most 19
        /// windows start at each group.
        func redact(into rewrite: inout Rewrite) {
            // Most chains are a price, a time or a quantity: too few digits for either.
            guard digits.count >= PIIRedactor.phoneDigits.lowerBound, !isDateRange else { return }
            // covered[g]: the most digits that windows within groups g... can cover; chosen[g]: the
            // window starting at g that covers them, when one does.
            var covered = [Int](repeating: 0, count: groups.count + 1)
            var chosen = [(last: Int, marker: String)?](repeating: nil, count: groups.count)
            for first in groups.indices.reversed() {
                covered[first] = covered[first + 1]
                for last in first..<groups.count {
                    let count = digitCount(first...last)
                    guard count <= PIIRedactor.cardDigits.upperBound else { break }
                    guard let marker = redactionMarker(for: first...last), !isNeedlesslyGlued(first...last, marker: marker) else { continue }
                    if count + covered[last + 1] > covered[first] {
                        covered[first] = count + covered[last + 1]
                        chosen[first] = (last, marker)
                    }
                }
            }
            var first = 0
            while first < groups.count {
                guard let (last, marker) = chosen[first] else {
                    first += 1
                    continue
                }
                let lowerBound = max(rewrite.copiedUpTo, first > 0 ? groups[first - 1].end : 0)
                rewrite.replace(span(of: first...last, startingAfter: lowerBound), with: marker)
                first = last + 1
            }
        }

        private func digitCount(_ window: ClosedRange<Int>) -> Int {
            groups[window.upperBound].digits.upperBound - groups[window.lowerBound].digits.lowerBound
        }

        /// The card or phone marker for the groups `window`, if they are either.
        private func redactionMarker(for window: ClosedRange<Int>) -> String? {
            let count = digitCount(window)
            if PIIRedactor.cardDigits.contains(count), passesLuhn(window) { return PIIRedactor.cardMarker }
            guard PIIRedactor.phoneDigits.contains(count), startsNumber(window.lowerBound), endsNumber(window.upperBound)
            else { return nil }
            return opensWithCode(window) || (window.count > 1 && count >= 9) || count >= 10 ? PIIRedactor.phoneMarker : nil
        }

        /// Whether `window` starts with a country code (`+49 …`) or an area code in parentheses
        /// (`(030) …`): a parenthesis it does not close (`(2024-01-15)`) is no area code.
        private func opensWithCode(_ window: ClosedRange<Int>) -> Bool {
            let start = groups[window.lowerBound].start
            guard start > 0 else { return false }
            let before = scalars[start - 1]
            return before == "+" || before == "\u{FF0B}"
                || (before.isOpeningParenthesis && window.dropFirst().contains { groups[$0].followsClosingParenthesis })
        }

        /// Whether the digits of `window` pass the Luhn check: doubling every second digit from the
        /// last one back, the sum of the digits (of the doubled ones' digits) is a multiple of 10.
        private func passesLuhn(_ window: ClosedRange<Int>) -> Bool {
            let digitRange = groups[window.lowerBound].digits.lowerBound..<groups[window.upperBound].digits.upperBound
            // The last digit is taken as it is, and with it every digit at an index of its parity.
            let sums = (digitRange.upperBound - 1) % 2 == 0 ? evenPlain : evenDoubled
            return (sums[digitRange.upperBound] - sums[digitRange.lowerBound]) % 10 == 0
        }

        /// Whether group `index` starts a number: the chain's first, one after a long separator, and
        /// a group glued to a word or beside one, which is a number of its own (`a1 5551234567`).
        private func startsNumber(_ index: Int) -> Bool {
            index == 0 || groups[index].followsLongSeparator || (index == 1 && gluedBefore) || (index == groups.count - 1 && gluedAfter)
        }

        private func endsNumber(_ index: Int) -> Bool {
            index == groups.count - 1 || startsNumber(index + 1)
        }

        /// Whether `window` takes in one or two digits glued to a word although it is the same card
        /// or phone number (`marker`) without them: those belong to the word (`a1 5551234567`)
        /// unless the number needs them. More glued digits are always taken in (`visa4539 …`): if
        /// the number is one without them only by chance, they would leak.
        private func isNeedlesslyGlued(_ window: ClosedRange<Int>, marker: String) -> Bool {
            guard window.count > 1 else { return false }
            let (first, last) = (window.lowerBound, window.upperBound)
            if first == 0, gluedBefore, groups[first].digits.count <= 2, redactionMarker(for: (first + 1)...last) == marker { return true }
            if last == groups.count - 1, gluedAfter, groups[last].digits.count <= 2, redactionMarker(for: first...(last - 1)) == marker {
                return true
            }
            return false
        }

        /// Where the groups `window` stand in the text, with the `+` or `(` before them (`+49 …`,
        /// `(030) …`, `+(49) …`) and a `)` after them that closes one of theirs.
        private func span(of window: ClosedRange<Int>, startingAfter lowerBound: Int) -> Range<Int> {
            var start = groups[window.lowerBound].start
            var openingMarks = 0
            while openingMarks < 2, start > lowerBound, scalars[start - 1].opensNumber {
                start -= 1
                openingMarks += 1
            }
            var end = groups[window.upperBound].end
            let unclosed = scalars[start..<end].reduce(0) { $0 + ($1.isOpeningParenthesis ? 1 : $1.isClosingParenthesis ? -1 : 0) }
            if unclosed > 0, end < scalars.count, scalars[end].isClosingParenthesis { end += 1 }
            return start..<end
        }

        /// Whether the chain is two or more calendar dates and nothing else: a date range.
        private var isDateRange: Bool {
            groups.count >= 6 && groups.count % 3 == 0 && stride(from: 0, to: groups.count, by: 3).allSatisfy(isDate(from:))
        }

        /// Whether groups `first`, `first + 1` and `first + 2` are a date: a year from 1900 to 2099,
        /// a month and a day, year first (`2024-01-15`) or last in either order (`15.01.2024`,
        /// `01/15/2024`), with the same single `-`, `.` or `/` between them.
        private func isDate(from first: Int) -> Bool {
            let separators = [scalars[groups[first].end..<groups[first + 1].start], scalars[groups[first + 1].end..<groups[first + 2].start]]
            guard separators.allSatisfy({ $0.count == 1 }), separators[0] == separators[1],
                  let separator = separators[0].first, separator == "-" || separator == "." || separator == "/"
            else { return false }
            let parts = (first...(first + 2)).map { groups[$0].digits }
            func value(_ part: Range<Int>) -> Int { digits[part].reduce(0) { $0 * 10 + $1 } }
            func isYear(_ part: Range<Int>) -> Bool { part.count == 4 && (1900...2099).contains(value(part)) }
            func isMonth(_ part: Range<Int>) -> Bool { part.count <= 2 && (1...12).contains(value(part)) }
            func isDay(_ part: Range<Int>) -> Bool { part.count <= 2 && (1...31).contains(value(part)) }
            return (isYear(parts[0]) && isMonth(parts[1]) && isDay(parts[2]))
                || (isYear(parts[2]) && ((isDay(parts[0]) && isMonth(parts[1])) || (isMonth(parts[0]) && isDay(parts[1]))))
        }
    }
}

// MARK: - Building the redacted text

/// A copy of a text in which spans, given from first to last without overlap, are replaced by
/// markers; the text between them is copied in runs.
private struct Rewrite {
    private let source: [Unicode.Scalar]
    private var output: [Unicode.Scalar] = []
    /// Where the text after the last replacement starts: the next span starts here or later.
    private(set) var copiedUpTo = 0

    init(of source: [Unicode.Scalar]) {
        self.source = source
    }

    mutating func replace(_ span: Range<Int>, with marker: String) {
        output.append(contentsOf: source[copiedUpTo..<span.lowerBound])
        output.append(contentsOf: marker.unicodeScalars)
        copiedUpTo = span.upperBound
    }

    /// The text with its replacements, or nil when there were none.
    func finished() -> [Unicode.Scalar]? {
        guard copiedUpTo > 0 else { return nil }
        return output + source[copiedUpTo...]
    }
}

// MARK: - Classes of scalars

extension Unicode.Scalar {
    /// 0–9 for a decimal digit of any script (general category Nd), nil for anything else.
    fileprivate var decimalDigitValue: Int? {
        if isASCII { return ("0"..."9").contains(self) ? Int(value - 0x30) : nil }
        guard properties.generalCategory == .decimalNumber, let numeric = properties.numericValue else { return nil }
        return Int(numeric)
    }

    /// Whether the scalar joins the digits on either side into one chain: white space other than
    /// line breaks (tab and the space separators, no-break and ideographic spaces among them),
    /// dashes (hyphen-minus, en and em dash, ...), the minus sign, `.`, `/`, `_` and parentheses,
    /// with their full-width forms.
    fileprivate var joinsDigits: Bool {
        switch self {
        case " ", "\t", "-", ".", "/", "_", "(", ")", "\u{2212}", "\u{FF0E}", "\u{FF0F}", "\u{FF3F}", "\u{FF08}", "\u{FF09}":
            return true
        default:
            guard !isASCII else { return false }
            let category = properties.generalCategory
            return category == .spaceSeparator || category == .dashPunctuation
        }
    }

    fileprivate var isOpeningParenthesis: Bool { self == "(" || self == "\u{FF08}" }
    fileprivate var isClosingParenthesis: Bool { self == ")" || self == "\u{FF09}" }
    fileprivate var isParenthesis: Bool { isOpeningParenthesis || isClosingParenthesis }

    /// `+` or `(` before the digits of a phone number, which belongs to its redaction.
    fileprivate var opensNumber: Bool { self == "+" || self == "\u{FF0B}" || isOpeningParenthesis }

    /// 10–35 for the Latin letters A–Z, either case, ASCII or full-width, as IBANs count them.
    fileprivate var ibanLetterValue: Int? {
        switch value {
        case 0x41...0x5A: Int(value - 0x41) + 10
        case 0x61...0x7A: Int(value - 0x61) + 10
        case 0xFF21...0xFF3A: Int(value - 0xFF21) + 10
        case 0xFF41...0xFF5A: Int(value - 0xFF41) + 10
        default: nil
        }
    }

    /// A digit's or a letter's value in an IBAN.
    fileprivate var ibanCharacterValue: Int? { decimalDigitValue ?? ibanLetterValue }

    /// RFC 5322 atext and the dots between its atoms; letters, digits and combining marks of any
    /// script (RFC 6531); and the typographic apostrophe that keyboards put in names like O’Brien.
    fileprivate var isEmailLocalPart: Bool {
        switch self {
        case "a"..."z", "A"..."Z", "0"..."9", ".",
             "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~", "\u{2019}":
            return true
        default:
            return !isASCII && isLetterDigitOrMark
        }
    }

    /// Letters, digits and combining marks of any script, `-` and the dots between labels.
    fileprivate var isEmailDomain: Bool {
        switch self {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "-": true
        default: !isASCII && isLetterDigitOrMark
        }
    }

    private var isLetterDigitOrMark: Bool {
        switch properties.generalCategory {
        case .decimalNumber, .nonspacingMark, .spacingMark, .enclosingMark: true
        default: properties.isAlphabetic
        }
    }
}
