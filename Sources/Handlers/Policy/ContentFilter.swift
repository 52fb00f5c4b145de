/// Refuses messages that carry markup, links or noise (SPEC §4.4).
///
/// Hand-written scans rather than regular expressions: each rule is one linear pass, costs
/// microseconds on the hot path, and cannot backtrack on hostile input.
public struct ContentFilter: Sendable {
    /// The seed's keyword list, offered as a preset; widgets opt in through `blocked_keywords`.
    public static let strictKeywordPreset = ["spam", "bot", "hack", "exploit", "script", "eval"]

    public var blockedKeywords: [String]

    public init(blockedKeywords: [String] = []) {
        self.blockedKeywords = blockedKeywords.map { $0.lowercased() }.filter { !$0.isEmpty }
    }

    /// The rule a message breaks, or nil when it is acceptable.
    public func violation(in message: String) -> String? {
        let lower = message.lowercased()
        if containsLink(lower) { return "url" }
        if containsTag(lower) { return "html_tag" }
        if containsScheme(lower) { return "dangerous_scheme" }
        if hasLongRun(message) { return "repeated_characters" }
        if isMostlySpecialCharacters(message) { return "special_characters" }
        if let keyword = blockedKeywords.first(where: { containsWord($0, in: lower) }) { return "keyword:\(keyword)" }
        return nil
    }

    private func containsLink(_ lower: String) -> Bool {
        ["http://", "https://", "ftp://", "www."].contains { lower.contains($0) }
    }

    /// `<` then a letter, `/` or `!`, later closed by `>`: `<b>`, `</div>`, `<!--`, but not `a < b > c`.
    private func containsTag(_ lower: String) -> Bool {
        let bytes = Array(lower.utf8)
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "<") && index + 1 < bytes.count {
            let next = bytes[index + 1]
            let opensTag = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(next) || next == UInt8(ascii: "/") || next == UInt8(ascii: "!")
            if opensTag, bytes[(index + 1)...].contains(UInt8(ascii: ">")) { return true }
        }
        return false
    }

    /// `javascript:`, `vbscript:` or `data:` used as a URL scheme (followed directly by its payload),
    /// so that prose such as "I love javascript: it is fun" passes.
    private func containsScheme(_ lower: String) -> Bool {
        for scheme in ["javascript:", "vbscript:", "data:"] {
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
            if run >= 11 { return true }
            previous = character
        }
        return false
    }

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
        return visible >= 8 && special * 2 > visible
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
}
