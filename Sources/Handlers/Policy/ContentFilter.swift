#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Refuses messages that carry markup, links or noise (README, “Security model”).
///
/// Hand-written scans rather than regular expressions: each rule is one linear pass, costs
/// microseconds on the hot path, and cannot backtrack on hostile input. ASCII messages — most of
/// them — are scanned over their bytes; any other message over its `Character`s. Both give the same
/// verdict on ASCII text (a test checks it on generated messages).
public struct ContentFilter: Sendable {
    /// A stricter keyword list, offered as a preset; widgets opt in through `blocked_keywords`.
    public static let strictKeywordPreset = ["spam", "bot", "hack", "exploit", "script", "eval"]

    public var blockedKeywords: [String]

    public init(blockedKeywords: [String] = []) {
        self.blockedKeywords = blockedKeywords.map { $0.lowercased() }.filter { !$0.isEmpty }
    }

    /// The rule a message breaks, or nil when it is acceptable. Text that is not ASCII is judged as
    /// it reads, not as it is spelt: invisible format characters (zero-width spaces and joiners,
    /// bidirectional marks) are dropped and full-width forms read as ASCII, so that
    /// `h\u{200B}ttps://` or `ｈｔｔｐｓ：／／` is the link it shows.
    public func violation(in message: String) -> String? {
        if let text = ASCIIText(message) { return asciiViolation(in: text) }
        let visible = Self.asDisplayed(message)
        if let text = ASCIIText(visible) { return asciiViolation(in: text) }
        return characterViolation(in: visible)
    }

    /// `message` without format characters (general category Cf), with full-width ASCII forms
    /// (U+FF01–U+FF5E) and the ideographic space read as their ASCII counterparts.
    static func asDisplayed(_ message: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in message.unicodeScalars {
            switch scalar.value {
            case 0xFF01...0xFF5E: scalars.append(Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar)
            case 0x3000: scalars.append(" ")
            default: if scalar.properties.generalCategory != .format { scalars.append(scalar) }
            }
        }
        return String(scalars)
    }

    private static let linkMarkers = ["http://", "https://", "ftp://", "www."]
    private static let dangerousSchemes = ["javascript:", "vbscript:", "data:"]

    // MARK: Any text, over Characters

    func characterViolation(in message: String) -> String? {
        let lower = message.lowercased()
        if Self.linkMarkers.contains(where: { lower.contains($0) }) { return "url" }
        if Self.containsTag(Array(lower.utf8)) { return "html_tag" }
        if containsScheme(lower) { return "dangerous_scheme" }
        if hasLongRun(message) { return "repeated_characters" }
        if isMostlySpecialCharacters(message) { return "special_characters" }
        if let keyword = blockedKeywords.first(where: { containsWord($0, in: lower) }) { return "keyword:\(keyword)" }
        return nil
    }

    /// `<` then a letter, `/` or `!`, later closed by `>`: `<b>`, `</div>`, `<!--`, but not `a < b > c`.
    /// Over lower-cased UTF-8, which is exact for any text: every byte it looks for is ASCII.
    private static func containsTag(_ lower: [UInt8]) -> Bool {
        guard let close = lower.lastIndex(of: UInt8(ascii: ">")) else { return false }
        for index in lower.indices where index + 1 < close && lower[index] == UInt8(ascii: "<") {
            let next = lower[index + 1]
            if next.isASCIILowercaseLetter || next == UInt8(ascii: "/") || next == UInt8(ascii: "!") { return true }
        }
        return false
    }

    /// `javascript:`, `vbscript:` or `data:` used as a URL scheme (followed directly by its payload),
    /// so that prose such as "I love javascript: it is fun" passes.
    private func containsScheme(_ lower: String) -> Bool {
        for scheme in Self.dangerousSchemes {
            var searchStart = lower.startIndex
            while let found = lower[searchStart...].firstRange(of: scheme) {
                let precededByLetter = found.lowerBound > lower.startIndex
                    && lower[lower.index(before: found.lowerBound)].isLetter
                if !precededByLetter, found.upperBound < lower.endIndex, !lower[found.upperBound].isWhitespace {
                    return true
                }
                searchStart = found.upperBound
            }
        }
        return false
    }

    /// A character repeated 11 or more times in a row.
    private func hasLongRun(_ message: String) -> Bool {
        var previous: Character?
        var run = 0
        for character in message {
            run = character == previous ? run + 1 : 1
            if run >= Self.longRun { return true }
            previous = character
        }
        return false
    }

    private static let longRun = 11

    /// More than half of the visible characters are neither letters, digits nor emoji. Messages under
    /// eight visible characters are exempt: "?" or "ok!!" are fair things to type.
    private func isMostlySpecialCharacters(_ message: String) -> Bool {
        var visible = 0
        var special = 0
        for character in message where !character.isWhitespace {
            visible += 1
            let isEmoji = character.unicodeScalars.contains { $0.properties.isEmojiPresentation }
            if !(character.isLetter || character.isNumber || isEmoji) { special += 1 }
        }
        return Self.isMostlySpecial(visible: visible, special: special)
    }

    private static func isMostlySpecial(visible: Int, special: Int) -> Bool {
        visible >= 8 && special * 2 > visible
    }

    private func containsWord(_ word: String, in lower: String) -> Bool {
        var searchStart = lower.startIndex
        while let found = lower[searchStart...].firstRange(of: word) {
            let before = found.lowerBound == lower.startIndex || !lower[lower.index(before: found.lowerBound)].isLetter
            let after = found.upperBound == lower.endIndex || !lower[found.upperBound].isLetter
            if before && after { return true }
            searchStart = found.upperBound
        }
        return false
    }

    // MARK: ASCII text, over bytes

    /// The same rules over bytes. In ASCII a `Character` is one byte — except CR LF, one grapheme
    /// of two bytes, which every rule below treats as the single whitespace character it is — its
    /// letters are A-Z and a-z, its numbers 0-9, and no character is an emoji.
    func asciiViolation(in text: ASCIIText) -> String? {
        let lower = text.lowercased
        if Self.linkMarkers.contains(where: { lower.firstOccurrence(of: $0.utf8, from: 0) != nil }) { return "url" }
        if Self.containsTag(lower) { return "html_tag" }
        if Self.dangerousSchemes.contains(where: { Self.isUsedAsScheme($0, in: lower) }) { return "dangerous_scheme" }
        if Self.hasLongRun(text.bytes) { return "repeated_characters" }
        var visible = 0
        var special = 0
        for byte in text.bytes where !byte.isASCIIWhitespace {
            visible += 1
            if !(byte.isASCIILowercaseLetter || byte.isASCIIUppercaseLetter || byte.isASCIIDigit) { special += 1 }
        }
        if Self.isMostlySpecial(visible: visible, special: special) { return "special_characters" }
        for keyword in blockedKeywords {
            // A keyword that is not plain ASCII could still equal ASCII text under Unicode's canonical
            // equivalence (U+037E is ";"), and CR or LF in it could split a CR LF grapheme: Characters decide.
            let found = keyword.utf8.allSatisfy { $0 < 0x80 && $0 != 0x0D && $0 != 0x0A }
                ? Self.containsWord(Array(keyword.utf8), in: lower)
                : containsWord(keyword, in: String(decoding: lower, as: UTF8.self))
            if found { return "keyword:\(keyword)" }
        }
        return nil
    }

    private static func isUsedAsScheme(_ scheme: String, in lower: [UInt8]) -> Bool {
        var searchStart = 0
        while let start = lower.firstOccurrence(of: scheme.utf8, from: searchStart) {
            let end = start + scheme.utf8.count
            let precededByLetter = start > 0 && lower[start - 1].isASCIILowercaseLetter
            if !precededByLetter, end < lower.count, !lower[end].isASCIIWhitespace { return true }
            searchStart = end
        }
        return false
    }

    private static func hasLongRun(_ bytes: [UInt8]) -> Bool {
        var previous: UInt16?
        var run = 0
        var index = 0
        while index < bytes.count {
            // CR LF is one character; a lone CR or LF is another.
            let isCRLF = bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A
            let character = isCRLF ? 0x0D0A : UInt16(bytes[index])
            index += isCRLF ? 2 : 1
            run = character == previous ? run + 1 : 1
            if run >= longRun { return true }
            previous = character
        }
        return false
    }

    private static func containsWord(_ word: [UInt8], in lower: [UInt8]) -> Bool {
        var searchStart = 0
        while let start = lower.firstOccurrence(of: word, from: searchStart) {
            let end = start + word.count
            let before = start == 0 || !lower[start - 1].isASCIILowercaseLetter
            let after = end == lower.count || !lower[end].isASCIILowercaseLetter
            if before && after { return true }
            searchStart = end
        }
        return false
    }
}
