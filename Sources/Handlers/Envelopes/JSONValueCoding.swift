#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a JSON value is not the shape a type expects, located like JSONDecoder's `DecodingError`
/// so that a refusal reads the same whichever path decoded the event.
public struct JSONShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A required key is absent from the object at `path`.
        case missing(key: String)
        /// The value at `path` is not of the JSON type the field takes (`null` included).
        case wrongType
        /// The value at `path` has the right JSON type but a value the field cannot take.
        case invalidValue
    }

    public var kind: Kind
    /// The keys (and array indexes) from the top-level value down.
    public var path: [String]

    public init(_ kind: Kind, path: [String] = []) {
        self.kind = kind
        self.path = path
    }

    /// The same failure reported by JSONDecoder, for types still decoded through `Decodable`;
    /// nil for errors that are not about a value's shape (such as invalid JSON).
    init?(_ error: DecodingError) {
        func path(_ context: DecodingError.Context) -> [String] {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        }
        switch error {
        case .keyNotFound(let key, let context): self.init(.missing(key: key.stringValue), path: path(context))
        case .typeMismatch(_, let context), .valueNotFound(_, let context): self.init(.wrongType, path: path(context))
        case .dataCorrupted(let context) where !context.codingPath.isEmpty: self.init(.invalidValue, path: path(context))
        default: return nil
        }
    }

    /// One line naming the offending field, for the messages clients and logs see.
    public var description: String {
        let location = path.isEmpty ? "the top level" : "`\(path.joined(separator: "."))`"
        return switch kind {
        case .missing(let key): "missing `\(key)` at \(location)"
        case .wrongType: "wrong type at \(location)"
        case .invalidValue: "invalid value at \(location)"
        }
    }

    /// Runs `body`, which reads the value under `key`, and puts `key` in front of the path of any
    /// failure: paths are only built on the way out of a failure, never while decoding succeeds.
    static func under<T>(_ key: String, _ body: () throws(JSONShapeError) -> T) throws(JSONShapeError) -> T {
        do {
            return try body()
        } catch {
            var error = error
            error.path.insert(key, at: 0)
            throw error
        }
    }
}

/// A type read from a parsed `JSONValue` by hand instead of through `Decodable`.
///
/// Events are decoded on every invocation, and JSONDecoder's `Codable` machinery cost more CPU than
/// the handlers themselves. Conforming types must accept and refuse what their `Decodable`
/// conformance does: unknown keys ignored, absent or `null` optionals read as nil, wrong JSON types
/// refused (a number is never a string).
public protocol JSONValueDecodable {
    init(json: JSONValue) throws(JSONShapeError)
}

/// A type written as a `JSONValue` by hand instead of through `Encodable`; its `jsonValue` must
/// serialise to the bytes `JSONCoding.encoder` writes for it (`nil` optionals omitted).
public protocol JSONValueEncodable {
    var jsonValue: JSONValue { get }
}

/// A type that writes its JSON bytes directly, without a tree of dictionaries: the bytes
/// `JSONCoding.encoder` writes for it (keys sorted, `nil` optionals left out). The envelopes' one
/// encoding: `JSONBytesOutputEncoder` writes a function's output this way on every invocation, and
/// the stage every event.
public protocol JSONBytesEncodable {
    var jsonBytes: [UInt8] { get }
}

extension JSONValueDecodable {
    /// Parses `bytes` and reads them as this type.
    public init(jsonBytes bytes: some Sequence<UInt8>) throws(JSONValueDecodingError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw .invalidJSON(error)
        }
        do {
            try self.init(json: value)
        } catch {
            throw .shape(error)
        }
    }
}

/// Why bytes could not be read as a `JSONValueDecodable` type.
public enum JSONValueDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(JSONParseError)
    case shape(JSONShapeError)

    /// The wording JSONDecoder failures have always been reported with.
    public var description: String {
        switch self {
        case .invalidJSON: "not valid JSON"
        case .shape(let error): error.description
        }
    }
}

/// The members of a JSON object being read as a type's fields.
public struct JSONFields: Sendable {
    public let members: [String: JSONValue]

    /// Refuses anything but an object, as a keyed decoding container does.
    public init(_ value: JSONValue) throws(JSONShapeError) {
        guard case .object(let members) = value else { throw JSONShapeError(.wrongType) }
        self.members = members
    }

    public func contains(_ key: String) -> Bool {
        members[key] != nil
    }

    /// A required field: absent is `missing`, `null` or another JSON type is `wrongType`.
    public func decode<T: JSONValueDecodable>(_ key: String) throws(JSONShapeError) -> T {
        guard let value = members[key] else { throw JSONShapeError(.missing(key: key)) }
        return try JSONShapeError.under(key) { () throws(JSONShapeError) in try T(json: value) }
    }

    /// An optional field: absent or `null` is nil, another JSON type is `wrongType`.
    public func decodeIfPresent<T: JSONValueDecodable>(_ key: String) throws(JSONShapeError) -> T? {
        guard let value = members[key], value != .null else { return nil }
        return try JSONShapeError.under(key) { () throws(JSONShapeError) in try T(json: value) }
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Sets `key` unless `value` is nil, as synthesized `Encodable` conformances omit nil optionals.
    public mutating func set(_ key: String, _ value: (some JSONValueEncodable)?) {
        if let value { self[key] = value.jsonValue }
    }
}

extension JSONValue: JSONValueDecodable, JSONValueEncodable {
    public init(json: JSONValue) {
        self = json
    }

    public var jsonValue: JSONValue { self }
}

// JSON's scalars, each one case of `JSONValue`: a value of another JSON type (`null` included) is
// `wrongType`. Integers: a number with a fraction or out of range is refused as an invalid value at
// its field (JSONDecoder refuses it too, but reports only "not valid JSON"). `JSONValue` holds
// numbers as `Double`, so an integer above 2^53 reads as its nearest `Double` (JSONDecoder would
// read it exactly; no event field comes near).
extension String: JSONValueEncodable { public var jsonValue: JSONValue { .string(self) } }
extension Bool: JSONValueEncodable { public var jsonValue: JSONValue { .bool(self) } }
extension Double: JSONValueEncodable { public var jsonValue: JSONValue { .number(self) } }
extension Int: JSONValueEncodable { public var jsonValue: JSONValue { .number(Double(self)) } }
extension Int64: JSONValueEncodable { public var jsonValue: JSONValue { .number(Double(self)) } }
extension String: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) { if case .string(let value) = json { self = value } else { throw JSONShapeError(.wrongType) } }
}
extension Bool: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) { if case .bool(let value) = json { self = value } else { throw JSONShapeError(.wrongType) } }
}
extension Double: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) { if case .number(let value) = json { self = value } else { throw JSONShapeError(.wrongType) } }
}
extension Int: JSONValueDecodable { public init(json: JSONValue) throws(JSONShapeError) { self = try exactInteger(json) } }
extension Int64: JSONValueDecodable { public init(json: JSONValue) throws(JSONShapeError) { self = try exactInteger(json) } }

/// The integer a JSON number holds exactly: another JSON type is `wrongType`, a fraction or a
/// value out of `Integer`'s range `invalidValue`.
private func exactInteger<Integer: BinaryInteger>(_ json: JSONValue) throws(JSONShapeError) -> Integer {
    guard case .number(let value) = json else { throw JSONShapeError(.wrongType) }
    guard let exact = Integer(exactly: value) else { throw JSONShapeError(.invalidValue) }
    return exact
}

extension Array: JSONValueDecodable where Element: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        guard case .array(let elements) = json else { throw JSONShapeError(.wrongType) }
        self = []
        reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            append(try JSONShapeError.under(String(index)) { () throws(JSONShapeError) in try Element(json: element) })
        }
    }
}

extension Array: JSONValueEncodable where Element: JSONValueEncodable {
    public var jsonValue: JSONValue { .array(map(\.jsonValue)) }
}

extension Dictionary: JSONValueDecodable where Key == String, Value: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        guard case .object(let members) = json else { throw JSONShapeError(.wrongType) }
        self = [:]
        reserveCapacity(members.count)
        for (key, member) in members {
            self[key] = try JSONShapeError.under(key) { () throws(JSONShapeError) in try Value(json: member) }
        }
    }
}

extension Dictionary: JSONValueEncodable where Key == String, Value: JSONValueEncodable {
    public var jsonValue: JSONValue { .object(mapValues(\.jsonValue)) }
}

/// String-backed enums, as `Decodable` reads them: an unknown raw value is an invalid value.
extension JSONValueDecodable where Self: RawRepresentable, RawValue == String {
    public init(json: JSONValue) throws(JSONShapeError) {
        guard let value = Self(rawValue: try String(json: json)) else { throw JSONShapeError(.invalidValue) }
        self = value
    }
}

extension JSONValueEncodable where Self: RawRepresentable, RawValue == String {
    public var jsonValue: JSONValue { .string(rawValue) }
}
