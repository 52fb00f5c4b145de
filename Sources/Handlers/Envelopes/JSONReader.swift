/// Reads a JSON document in one pass straight into a type's fields, without the tree of
/// `JSONValue`s that `JSONValueDecodable` reads from: no dictionary per object, no key strings for
/// the fields, no tree to walk and free. Every invocation decodes its event, and building and
/// reading the tree is most of that cost (BENCHMARKS.md).
///
/// A reader never refuses a document: whatever it cannot read as the type — invalid JSON, a member
/// of another JSON type, a key written with escapes or outside ASCII — it declines, and the caller
/// decodes the same bytes through the tree, which gives the value or the precise error. So a
/// readable type must read exactly the values its `JSONValueDecodable` conformance gives, but never
/// needs to say why it declined. It validates what it skips, so that it accepts no document the
/// tree refuses; of repeated keys the first wins, as in `JSONValue`'s objects. A declined document
/// costs the reader's partial pass on top of the tree's; documents the functions accept are read once.
public struct JSONReader: ~Copyable {
    /// The reader cannot read the document as the type; the caller falls back to the tree.
    public struct Declined: Error, Sendable {}

    private var parser: JSONParser

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        parser = JSONParser(bytes: bytes)
    }

    /// `T` read from the whole of `bytes` (a UTF-8 byte order mark and surrounding whitespace
    /// allowed, as the parser allows them), or nil when the reader declines them.
    static func read<T: JSONReadable>(_ type: T.Type, from bytes: UnsafeBufferPointer<UInt8>) -> T? {
        var reader = JSONReader(bytes)
        reader.parser.skipByteOrderMark()
        guard let value = try? T(reading: &reader) else { return nil }
        return reader.parser.isAtEndOfDocument() ? value : nil
    }

    /// Reads an object whose members are a type's fields, handing `member` each key as written;
    /// `member` must read or skip the value.
    public mutating func readFields(_ member: (inout JSONReader, JSONKey) throws(Declined) -> Void) throws(Declined) {
        try readMembers(member) { reader throws(Declined) in
            // A key as written, between its quotes: printable ASCII without escapes, or declined.
            let bytes = reader.parser.bytes
            let start = reader.parser.index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                guard bytes[end] >= 0x20, bytes[end] < 0x80, bytes[end] != UInt8(ascii: "\\") else { throw Declined() }
                end += 1
            }
            guard end < bytes.count else { throw Declined() }
            reader.parser.index = end + 1
            return JSONKey(bytes: UnsafeBufferPointer(rebasing: bytes[start..<end]))
        }
    }

    /// Reads an object whose keys are data (a dictionary), handing `member` each key decoded.
    public mutating func readEntries(_ member: (inout JSONReader, String) throws(Declined) -> Void) throws(Declined) {
        try readMembers(member) { reader throws(Declined) in
            do { return try reader.parser.parseString() } catch { throw Declined() }
        }
    }

    /// Reads an array, `element` reading each of its values.
    public mutating func readElements(_ element: (inout JSONReader) throws(Declined) -> Void) throws(Declined) {
        try readContainer(from: UInt8(ascii: "["), to: UInt8(ascii: "]"), element)
    }

    public mutating func readString() throws(Declined) -> String {
        guard try next() == UInt8(ascii: "\"") else { throw Declined() }
        do { return try parser.parseString() } catch { throw Declined() }
    }

    public mutating func readBool() throws(Declined) -> Bool {
        switch try next() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default:
            throw Declined()
        }
    }

    /// A number, as the parser reads it: integers are then taken only when exact, as `JSONValue`'s are.
    public mutating func readNumber() throws(Declined) -> Double {
        switch try next() {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            do { return try parser.parseNumber() } catch { throw Declined() }
        default: throw Declined()
        }
    }

    /// Reads `null` if it comes next; false, reading nothing, when another value does.
    public mutating func readNull() throws(Declined) -> Bool {
        guard try next() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Any value, as a tree: for the parts of an event whose shape the caller decides.
    public mutating func readValue() throws(Declined) -> JSONValue {
        do { return try parser.parseValue() } catch { throw Declined() }
    }

    /// Skips a value, checking that it is JSON.
    public mutating func skipValue() throws(Declined) {
        _ = try readValue()
    }

    private mutating func readMembers<Key>(_ member: (inout JSONReader, Key) throws(Declined) -> Void,
                                           key readKey: (inout JSONReader) throws(Declined) -> Key) throws(Declined) {
        try readContainer(from: UInt8(ascii: "{"), to: UInt8(ascii: "}")) { reader throws(Declined) in
            guard try reader.next() == UInt8(ascii: "\"") else { throw Declined() }
            let key = try readKey(&reader)
            guard try reader.next() == UInt8(ascii: ":") else { throw Declined() }
            reader.parser.index += 1
            try member(&reader, key)
        }
    }

    /// Reads the container between `opening` and `closing`, `item` reading each of its items.
    private mutating func readContainer(from opening: UInt8, to closing: UInt8,
                                        _ item: (inout JSONReader) throws(Declined) -> Void) throws(Declined) {
        try enter(opening)
        defer { parser.depth -= 1 }
        if try next() == closing {
            parser.index += 1
            return
        }
        while true {
            try item(&self)
            switch try next() {
            case UInt8(ascii: ","): parser.index += 1
            case closing:
                parser.index += 1
                return
            default: throw Declined()
            }
        }
    }

    /// Opens the container that `opening` starts, counting it against the nesting limit.
    private mutating func enter(_ opening: UInt8) throws(Declined) {
        guard try next() == opening else { throw Declined() }
        do { try parser.enterContainer() } catch { throw Declined() }
    }

    /// The next non-whitespace byte, not consumed.
    private mutating func next() throws(Declined) -> UInt8 {
        do { return try parser.peek() } catch { throw Declined() }
    }

    private mutating func literal(_ text: StaticString) throws(Declined) {
        do { try parser.expectLiteral(text) } catch { throw Declined() }
    }
}

/// An object key as the document writes it, compared with field names without becoming a `String`.
public struct JSONKey {
    fileprivate let bytes: UnsafeBufferPointer<UInt8>

    public static func ~= (name: StaticString, key: JSONKey) -> Bool {
        name.utf8CodeUnitCount == key.bytes.count
            && UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount).elementsEqual(key.bytes)
    }
}

/// A type `JSONReader` reads directly from bytes.
public protocol JSONReadable {
    init(reading reader: inout JSONReader) throws(JSONReader.Declined)
}

/// A type read from bytes by a `JSONReader` where it can, and through the tree where it declines:
/// what the Lambda functions' events are.
public typealias JSONBytesDecodable = JSONReadable & JSONValueDecodable

extension JSONValueDecodable where Self: JSONReadable {
    /// The value of `bytes`, read directly; when the reader declines, decoded through the tree,
    /// which gives the same value or the error.
    public init(readingJSON bytes: [UInt8]) throws(JSONValueDecodingError) {
        if let value = bytes.withUnsafeBufferPointer({ JSONReader.read(Self.self, from: $0) }) {
            self = value
        } else {
            try self.init(jsonBytes: bytes)
        }
    }
}

/// A field of a type being read: the value of the first member under its key. Later members under
/// the same key are only checked as JSON, as `JSONValue`'s objects keep the first.
public struct JSONField<Value: JSONReadable> {
    public private(set) var value: Value?

    public init() {}

    public mutating func read(from reader: inout JSONReader) throws(JSONReader.Declined) {
        guard value == nil else { return try reader.skipValue() }
        value = try Value(reading: &reader)
    }

    /// The value of a required field; an absent one is declined.
    public func required() throws(JSONReader.Declined) -> Value {
        guard let value else { throw JSONReader.Declined() }
        return value
    }

    /// The value of an optional field: nil when absent or `null`.
    public func optional<Wrapped>() -> Wrapped? where Value == Wrapped? {
        value ?? nil
    }
}

extension String: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        self = try reader.readString()
    }
}

extension Bool: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        self = try reader.readBool()
    }
}

extension Int: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        guard let exact = Int(exactly: try reader.readNumber()) else { throw JSONReader.Declined() }
        self = exact
    }
}

extension Int64: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        guard let exact = Int64(exactly: try reader.readNumber()) else { throw JSONReader.Declined() }
        self = exact
    }
}

extension JSONValue: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        self = try reader.readValue()
    }
}

/// `null` reads as nil; anything else as the wrapped type.
extension Optional: JSONReadable where Wrapped: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        self = try reader.readNull() ? nil : Wrapped(reading: &reader)
    }
}

extension Array: JSONReadable where Element: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var elements: [Element] = []
        try reader.readElements { reader throws(JSONReader.Declined) in elements.append(try Element(reading: &reader)) }
        self = elements
    }
}

extension Dictionary: JSONReadable where Key == String, Value: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var entries: [String: Value] = [:]
        try reader.readEntries { reader, key throws(JSONReader.Declined) in
            if entries[key] == nil {
                entries[key] = try Value(reading: &reader)
            } else {
                try reader.skipValue()
            }
        }
        self = entries
    }
}

/// String-backed enums: an unknown raw value is declined.
extension JSONReadable where Self: RawRepresentable, RawValue == String {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        guard let value = Self(rawValue: try reader.readString()) else { throw JSONReader.Declined() }
        self = value
    }
}
