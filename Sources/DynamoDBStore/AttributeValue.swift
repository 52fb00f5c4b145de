#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One value in DynamoDB's JSON wire format: `{"S": "..."}` or `{"N": "12"}`, the two types this
/// store writes. Numbers stay strings, as DynamoDB sends them, so that no precision is lost. Values
/// of other types (someone else's attributes on an item) are read as `.other` and never written.
enum AttributeValue: Codable, Sendable, Equatable {
    case string(String)
    case number(String)
    case other

    private enum Kind: String, CodingKey {
        case s = "S", n = "N"
    }

    init(_ value: some BinaryInteger) {
        self = .number(String(value))
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Kind.self)
        if let value = try container.decodeIfPresent(String.self, forKey: .s) {
            self = .string(value)
        } else if let value = try container.decodeIfPresent(String.self, forKey: .n) {
            self = .number(value)
        } else {
            self = .other
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Kind.self)
        switch self {
        case .string(let value): try container.encode(value, forKey: .s)
        case .number(let value): try container.encode(value, forKey: .n)
        case .other:
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "only S and N values are written"))
        }
    }

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var int64Value: Int64? {
        if case .number(let value) = self { return Int64(value) }
        return nil
    }
}

/// An item or key: attribute names to values.
typealias Item = [String: AttributeValue]
