/// Why bytes were refused as JSON, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    /// The byte offset at which the input stopped being JSON.
    public var offset: Int

    public var description: String { "not valid JSON (\(reason) at byte \(offset))" }
}

extension JSONValue {
    /// Containers nested deeper than this are refused, so hostile input cannot exhaust the stack;
    /// the same limit as FoundationEssentials' JSONDecoder, so both accept the same documents.
    public static let maximumNestingDepth = 512

    /// Parses one RFC 8259 JSON text.
    ///
    /// This replaces `JSONDecoder().decode(JSONValue.self, ...)` on every hot path: Codable decodes a
    /// `JSONValue` by trying each type in turn and throwing on every miss, which cost more than the
    /// handlers' own work. It accepts and refuses what JSONDecoder does — a leading UTF-8 byte order
    /// mark and surrounding whitespace are allowed; trailing garbage, invalid UTF-8, control
    /// characters in strings, unknown escapes, unpaired UTF-16 surrogate escapes, leading zeros and
    /// numbers a `Double` cannot hold (overflow, or non-zero digits that underflow to zero) are not;
    /// of repeated object keys the first wins. It is stricter than JSONDecoder where that departs from
    /// RFC 8259: trailing commas (`[1,]`) and NUL bytes between tokens are refused, and so is an
    /// invalid value under a repeated key, which JSONDecoder never reads and so never checks.
    public init(parsing bytes: some Sequence<UInt8>) throws(JSONParseError) {
        let parsed = bytes.withContiguousStorageIfAvailable(JSONParser.parse) ?? Array(bytes).withUnsafeBufferPointer(JSONParser.parse)
        self = try parsed.get()
    }

    /// Parses one RFC 8259 JSON text held in a string; see `init(parsing:)` for bytes.
    public init(parsing text: String) throws(JSONParseError) {
        var text = text
        self = try text.withUTF8(JSONParser.parse).get()
    }
}

/// A recursive-descent parser over a contiguous byte buffer; recursion is bounded by
/// `JSONValue.maximumNestingDepth`. `JSONReader` drives the same steps without building a tree.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    /// The members of every object still open, innermost last: one buffer for the whole document,
    /// where an array per object grew (and reallocated) member by member and was then copied into
    /// the dictionary.
    var openMembers: [(key: String, value: JSONValue)] = []

    /// The document in `bytes`, as a `Result` because the buffer accessors it runs inside do not
    /// carry typed throws.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
        var parser = JSONParser(bytes: bytes)
        return Result { () throws(JSONParseError) in try parser.parseDocument() }
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipByteOrderMark()
        let value = try parseValue()
        guard isAtEndOfDocument() else { throw failure("unexpected data after the value") }
        return value
    }

    /// Steps over a leading UTF-8 byte order mark, which a document may start with.
    mutating func skipByteOrderMark() {
        if index == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
    }

    /// Whether only whitespace follows the value just read.
    mutating func isAtEndOfDocument() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }

    private func failure(_ reason: String) -> JSONParseError {
        JSONParseError(reason: reason, offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    /// The next non-whitespace byte, not consumed.
    mutating func peek() throws(JSONParseError) -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw failure("unexpected end of input") }
        return bytes[index]
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw failure("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count,
              UnsafeBufferPointer(rebasing: bytes[index..<index + count]).elementsEqual(
                UnsafeBufferPointer(start: literal.utf8Start, count: count))
        else { throw failure("invalid literal") }
        index += count
    }

    mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= JSONValue.maximumNestingDepth else { throw failure("too deeply nested") }
        index += 1
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var elements: [JSONValue] = []
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw failure("expected , or ]")
            }
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        let base = openMembers.count
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try parseString()
            guard try peek() == UInt8(ascii: ":") else { throw failure("expected :") }
            index += 1
            let value = try parseValue()
            openMembers.append((key, value))
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(closeObject(from: base))
            default: throw failure("expected , or }")
            }
        }
    }

    /// The dictionary of the object whose members start at `base` of `openMembers`, which they
    /// leave. They are moved out last first, so that of repeated keys the first is stored last and wins.
    private mutating func closeObject(from base: Int) -> [String: JSONValue] {
        var object = [String: JSONValue](minimumCapacity: openMembers.count - base)
        while openMembers.count > base {
            let member = openMembers.removeLast()
            object[member.key] = member.value
        }
        return object
    }

    /// A string starting at the opening quote. Runs without escapes are copied in one piece and the
    /// result is UTF-8-validated once.
    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        skipPlainASCII()
        var isASCII = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if isASCII { return String(decoding: run, as: UTF8.self) }
                guard let text = String(validating: run, as: UTF8.self) else {
                    throw JSONParseError(reason: "invalid UTF-8 in a string", offset: start)
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { return try parseEscapedString(from: start) }
            guard byte >= 0x20 else { throw failure("control character in a string") }
            isASCII = isASCII && byte < 0x80
            index += 1
        }
        throw failure("unterminated string")
    }

    /// Skips eight bytes at a time while none of them ends the string, starts an escape, is a
    /// control character or is outside ASCII: the bytes the loop in `parseString` would step over
    /// one by one (event strings — tokens, user agents, bodies — are long runs of them). The first
    /// word holding any such byte is left to that loop.
    private mutating func skipPlainASCII() {
        guard let base = bytes.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while bytes.count - index >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            // Each test is non-zero exactly when some byte of the word is that kind of byte.
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word
            if special & highs != 0 { return }
            index += 8
        }
    }

    /// The slow path of `parseString`, from its first backslash. The runs between escapes are
    /// copied whole (a JSON body carried as a string escapes every quote of it, and appending it a
    /// byte at a time was most of parsing a response); the result is UTF-8-validated once.
    private mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(index - start + 32)
        utf8.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let run = index
            skipPlainASCII()
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 {
                index += 1
            }
            utf8.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
            guard index < bytes.count else { break }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw JSONParseError(reason: "invalid UTF-8 in a string", offset: start)
                }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                try appendEscape(to: &utf8)
            default:
                throw failure("control character in a string")
            }
        }
        throw failure("unterminated string")
    }

    private mutating func appendEscape(to utf8: inout [UInt8]) throws(JSONParseError) {
        guard index < bytes.count else { throw failure("unterminated string") }
        let escaped: UInt8
        switch bytes[index] {
        case UInt8(ascii: "\""): escaped = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): escaped = UInt8(ascii: "/")
        case UInt8(ascii: "b"): escaped = 0x08
        case UInt8(ascii: "f"): escaped = 0x0C
        case UInt8(ascii: "n"): escaped = 0x0A
        case UInt8(ascii: "r"): escaped = 0x0D
        case UInt8(ascii: "t"): escaped = 0x09
        case UInt8(ascii: "u"):
            index += 1
            UTF8.encode(try parseUnicodeEscape()) { utf8.append($0) }
            return
        default:
            throw failure("invalid escape")
        }
        utf8.append(escaped)
        index += 1
    }

    /// The scalar of a `\uXXXX` escape (the `\u` already consumed), joining a UTF-16 surrogate
    /// pair written as two escapes; an unpaired surrogate is refused, as JSONDecoder refuses it.
    private mutating func parseUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let unit = try parseHex4()
        switch unit {
        case 0xD800...0xDBFF:
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired UTF-16 surrogate")
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired UTF-16 surrogate") }
            let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw failure("invalid escape") }
            return scalar
        case 0xDC00...0xDFFF:
            throw failure("unpaired UTF-16 surrogate")
        default:
            guard let scalar = Unicode.Scalar(unit) else { throw failure("invalid escape") }
            return scalar
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        guard bytes.count - index >= 4 else { throw failure("truncated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8 = switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// A number as RFC 8259 writes it. Integers of up to 15 digits (exact in a `Double`) are
    /// converted directly; anything else goes through the standard library's correctly rounded
    /// conversion, as JSONDecoder's does.
    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        let isNegative = bytes[index] == UInt8(ascii: "-")
        if isNegative { index += 1 }
        var integer = 0
        var digits = 0
        var hasNonZeroDigit = false
        guard index < bytes.count, isDigit(bytes[index]) else { throw failure("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            digits = 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) {
                if digits < 16 { integer = integer * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            hasNonZeroDigit = true
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) {
                hasNonZeroDigit = hasNonZeroDigit || bytes[index] != UInt8(ascii: "0")
                index += 1
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if isInteger, digits <= 15 {
            return isNegative ? -Double(integer) : Double(integer)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite, value != 0 || !hasNonZeroDigit else {
            throw JSONParseError(reason: "number out of range", offset: start)
        }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
