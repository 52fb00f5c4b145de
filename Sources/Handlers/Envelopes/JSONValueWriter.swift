extension JSONValue {
    /// The value as JSON, byte for byte what `JSONCoding.encoder` writes for it — keys sorted by their
    /// UTF-8 bytes, slashes unescaped, whole numbers below 2^53 without a fraction — at a fraction of
    /// the cost of going through `Encodable`.
    ///
    /// Two documented differences, both unreachable from parsed input: a non-finite number (which
    /// JSONEncoder refuses to encode) is written as `null`, and nesting is not limited.
    public var jsonBytes: [UInt8] {
        var writer = JSONValueWriter()
        writer.write(self)
        return writer.bytes
    }

    /// `jsonBytes` as a string.
    public var jsonString: String {
        String(decoding: jsonBytes, as: UTF8.self)
    }
}

struct JSONValueWriter {
    var bytes: [UInt8] = []

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let value): append(value ? "true" : "false")
        case .number(let value): write(number: value)
        case .string(let value): write(string: value)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (offset, member) in sorted.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                write(string: member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func append(_ literal: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// As `JSONValue.encode(to:)` does: whole numbers a `Double` holds exactly as integers, others in
    /// the shortest form that round-trips, without JSONEncoder's redundant ".0".
    private mutating func write(number value: Double) {
        guard value.isFinite else { return append("null") }
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            bytes.append(contentsOf: Int64(value).description.utf8)
        } else {
            let text = value.description
            bytes.append(contentsOf: text.hasSuffix(".0") ? text.utf8.dropLast(2) : text.utf8[...])
        }
    }

    /// Escapes what JSON requires and nothing else, with JSONEncoder's spelling of each escape. The
    /// runs between escapes are copied whole: most strings (ids, replies, headers) have none, and a
    /// byte-at-a-time append was the writer's main cost.
    mutating func write(string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var copied = 0
            var offset = 0
            while offset < utf8.count {
                offset = Self.endOfPlainRun(utf8, from: offset)
                guard offset < utf8.count else { break }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[copied..<offset]))
                write(escape: utf8[offset])
                offset += 1
                copied = offset
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[copied...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The offset of the first byte from `start` that must be escaped (a quote, a backslash or a
    /// control character), or the count: eight bytes at a time while a word holds none of them.
    private static func endOfPlainRun(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var offset = start
        if let base = utf8.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while utf8.count - offset >= 8 {
                let word = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
                // Non-zero exactly when some byte of the word is a quote, a backslash or below 0x20.
                let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
                let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
                if special & highs != 0 { break }
                offset += 8
            }
        }
        while offset < utf8.count {
            let byte = utf8[offset]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return offset }
            offset += 1
        }
        return offset
    }

    private mutating func write(escape byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): append("\\\"")
        case UInt8(ascii: "\\"): append("\\\\")
        case 0x08: append("\\b")
        case 0x0C: append("\\f")
        case 0x0A: append("\\n")
        case 0x0D: append("\\r")
        case 0x09: append("\\t")
        default:
            append("\\u00")
            bytes.append(Self.hexDigit(byte >> 4))
            bytes.append(Self.hexDigit(byte & 0xF))
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

/// An object written member by member, for encoders whose fields are known in advance: the same
/// bytes as building a `.object` and writing it, without the dictionary and its sort. Members must
/// come in the order the writer sorts keys (ascending UTF-8 bytes); debug builds check it.
struct JSONObjectWriter {
    private var lastKey: String?

    /// Writes `{`; members follow through `member`, and `end` closes the object.
    init(in writer: inout JSONValueWriter) {
        writer.bytes.append(UInt8(ascii: "{"))
    }

    /// Writes `"key":` (after a comma unless it is the first member); the caller writes the value.
    mutating func key(_ key: String, in writer: inout JSONValueWriter) {
        if let lastKey {
            assert(lastKey.utf8.lexicographicallyPrecedes(key.utf8), "\(lastKey) before \(key)")
            writer.bytes.append(UInt8(ascii: ","))
        }
        lastKey = key
        writer.write(string: key)
        writer.bytes.append(UInt8(ascii: ":"))
    }

    /// Writes the member when `value` is present, as `[String: JSONValue].set` leaves absent ones out.
    mutating func member(_ key: String, _ value: JSONValue?, in writer: inout JSONValueWriter) {
        guard let value else { return }
        self.key(key, in: &writer)
        writer.write(value)
    }

    func end(in writer: inout JSONValueWriter) {
        writer.bytes.append(UInt8(ascii: "}"))
    }
}
