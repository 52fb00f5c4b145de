/// Replaces e-mail addresses, card numbers and phone numbers before text is stored, logged or sent
/// to an AI provider (SPEC §4.4).
///
/// Deliberate choices, so that ordinary numbers survive: a card is 13–19 digits passing the Luhn
/// check; a phone number is 7–15 digits after a leading `+` or `(`, 9–15 digits written with
/// separators, or 10–15 plain digits. Years, prices, dates (8 digits) and short order numbers are
/// left alone.
public struct PIIRedactor: Sendable {
    public static let emailMarker = "[email]"
    public static let cardMarker = "[card]"
    public static let phoneMarker = "[phone]"

    public init() {}

    public func redact(_ text: String) -> String {
        redactNumbers(redactEmails(text))
    }

    private func redactEmails(_ text: String) -> String {
        guard text.contains("@") else { return text }
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        var copiedUpTo = 0
        // Letters of any script: internationalised addresses (RFC 6531) and domain names are addresses too.
        func isLocal(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic || ("0"..."9").contains(s) || "._%+-".unicodeScalars.contains(s) }
        func isDomain(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "." || s == "-" }
        while index < scalars.count {
            guard scalars[index] == "@" else { index += 1; continue }
            var start = index
            while start > copiedUpTo, isLocal(scalars[start - 1]) { start -= 1 }
            var end = index + 1
            while end < scalars.count, isDomain(scalars[end]) { end += 1 }
            while end > index + 1, scalars[end - 1] == "." || scalars[end - 1] == "-" { end -= 1 }
            let domain = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
            let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
            let tld = labels.last ?? ""
            if start < index, labels.count >= 2, !labels.contains(where: \.isEmpty), tld.count >= 2, tld.allSatisfy(\.isLetter) {
                output.append(contentsOf: scalars[copiedUpTo..<start])
                output.append(contentsOf: Self.emailMarker.unicodeScalars)
                copiedUpTo = end
                index = end
            } else {
                index += 1
            }
        }
        output.append(contentsOf: scalars[copiedUpTo...])
        return String(output)
    }

    private func redactNumbers(_ text: String) -> String {
        // Every number this redacts has an ASCII digit; most messages have none, and are returned as they are.
        guard text.utf8.contains(where: \.isASCIIDigit) else { return text }
        let scalars = Array(text.unicodeScalars)
        // Built only from the first redaction on, copying the scalars in runs: most texts with digits
        // (prices, dates, "2 to 4 days" in replies) keep them all and are returned as they are.
        var output = String.UnicodeScalarView()
        var copiedUpTo = 0
        var index = 0
        func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
        func isSeparator(_ s: Unicode.Scalar) -> Bool { s == " " || s == "-" || s == "." || s == "(" || s == ")" }
        while index < scalars.count {
            let startsNumber = isDigit(scalars[index])
                || ((scalars[index] == "+" || scalars[index] == "(") && index + 1 < scalars.count && isDigit(scalars[index + 1]))
            // Only where a number starts is the scalar before it looked at (its properties cost a table lookup).
            guard startsNumber, !(index > 0 && (scalars[index - 1].properties.isAlphabetic || isDigit(scalars[index - 1]))) else {
                index += 1
                continue
            }
            // Extend over digits and single separators between digits.
            var end = index + 1
            var digits: [UInt8] = isDigit(scalars[index]) ? [UInt8(scalars[index].value - 48)] : []
            let international = !isDigit(scalars[index])
            var separated = false
            while end < scalars.count {
                if isDigit(scalars[end]) {
                    digits.append(UInt8(scalars[end].value - 48))
                    end += 1
                } else if isSeparator(scalars[end]), end + 1 < scalars.count,
                          isDigit(scalars[end + 1]) || (scalars[end] == ")" && end + 2 < scalars.count && isSeparator(scalars[end + 1]) && isDigit(scalars[end + 2])) {
                    separated = true
                    end += 1
                } else if scalars[end] == ")" {
                    end += 1
                    break
                } else {
                    break
                }
            }
            let gluedAfter = end < scalars.count && scalars[end].properties.isAlphabetic
            let marker: String?
            if gluedAfter {
                marker = nil
            } else if (13...19).contains(digits.count), Self.passesLuhn(digits) {
                marker = Self.cardMarker
            } else if (international && (7...15).contains(digits.count)) || (separated && (9...15).contains(digits.count))
                        || (10...15).contains(digits.count) {
                marker = Self.phoneMarker
            } else {
                marker = nil
            }
            if let marker {
                output.append(contentsOf: scalars[copiedUpTo..<index])
                output.append(contentsOf: marker.unicodeScalars)
                copiedUpTo = end
            }
            index = end
        }
        guard copiedUpTo > 0 else { return text }
        output.append(contentsOf: scalars[copiedUpTo...])
        return String(output)
    }

    static func passesLuhn(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if offset % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }
}
