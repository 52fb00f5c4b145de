/// Header fields compared case-insensitively, as HTTP requires.
///
/// API Gateway lower-cases header names in HTTP API (2.0) events but keeps the client's spelling in
/// REST (1.0) and WebSocket events, so handlers must never look a header up by exact key.
public struct HeaderFields: Sendable, Equatable, Sequence {
    private var fields: [(name: String, value: String)]

    public init(_ pairs: [(String, String)] = []) {
        fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    public init(_ dictionary: [String: String]?) {
        self.init((dictionary ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// The first value for `name`, whatever its case.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name: name, value: value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// `a.lowercased() == b.lowercased()`, compared byte by byte with ASCII case folding when both
    /// names are ASCII (as header names are): handlers look up several headers in every event, and
    /// lower-casing each field's name for each lookup allocated a string per name above 15 bytes.
    static func sameName(_ a: String, _ b: String) -> Bool {
        // nil when a name is not ASCII (or not contiguous UTF-8, as a bridged string may not be).
        let ascii: Bool? = a.utf8.withContiguousStorageIfAvailable { a in
            b.utf8.withContiguousStorageIfAvailable { b in ASCIIText.equalIgnoringCase(a, b) } ?? nil
        } ?? nil
        if let ascii { return ascii }
        return a.lowercased() == b.lowercased()
    }

    public var isEmpty: Bool { fields.isEmpty }

    /// One value per name (later values win), in the shape API Gateway responses use.
    public var dictionary: [String: String] {
        var result: [String: String] = [:]
        for field in fields { result[field.name] = field.value }
        return result
    }

    public func makeIterator() -> some IteratorProtocol<(name: String, value: String)> {
        fields.makeIterator()
    }

    public static func == (lhs: HeaderFields, rhs: HeaderFields) -> Bool {
        lhs.dictionary == rhs.dictionary
    }
}
