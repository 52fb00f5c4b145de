import Foundation
import Handlers
import Yams

/// Reads a CloudFormation/SAM template, YAML or JSON, into the long form of its intrinsic
/// functions: `!Ref X` becomes `{"Ref": "X"}`, `!GetAtt A.B` becomes `{"Fn::GetAtt": ["A", "B"]}`,
/// `!Sub …` becomes `{"Fn::Sub": …}`, exactly as CloudFormation itself expands the short forms.
enum TemplateDocument {
    enum ReadError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case syntax(path: String, reason: String)
        var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read template \(path): \(reason)"
            case .syntax(let path, let reason): "\(path) is neither valid JSON nor valid YAML: \(reason)"
            }
        }
    }

    /// The template at `path` as a JSON value. JSON is a subset of YAML, but JSON files are read by
    /// the JSON reader first: it is faster and its numbers and strings need no YAML type guessing.
    static func read(path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError.unreadable(path: path, reason: "no such file, or not readable")
        }
        if let json = try? JSONValue(parsing: data) { return json }
        do {
            return try parseYAML(String(decoding: data, as: UTF8.self))
        } catch let error as ReadError {
            throw error
        } catch {
            throw ReadError.syntax(path: path, reason: "\(error)")
        }
    }

    /// YAML text as a JSON value, short-form tags expanded.
    static func parseYAML(_ text: String) throws -> JSONValue {
        // Booleans are decided below (YAML 1.1's yes/no/on/off stay strings, as CloudFormation reads them).
        let resolver = Resolver.basic.appending(.int).appending(.float).appending(.null)
        guard let root = try Yams.compose(yaml: text, resolver) else { return .object([:]) }
        return try value(of: root)
    }

    private static func value(of node: Node) throws -> JSONValue {
        let plain = try untagged(node)
        let tag = node.tag.rawValue
        guard tag.hasPrefix("!"), tag != "!" else { return plain }
        return try expand(shortForm: String(tag.dropFirst()), plain, at: node.mark)
    }

    private static func untagged(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue: return Double(scalar.string.replacingOccurrences(of: "_", with: "")).map(JSONValue.number) ?? .string(scalar.string)
            default:
                switch scalar.string {
                case "true", "True", "TRUE": return .bool(true)
                case "false", "False", "FALSE": return .bool(false)
                default: return .string(scalar.string)
                }
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw ReadError.syntax(path: "template", reason: "a mapping key that is not a string at \(Self.location(key.mark))") }
                object[name] = try self.value(of: value)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(try sequence.map { try value(of: $0) })
        case .alias:
            throw ReadError.syntax(path: "template", reason: "YAML aliases are not supported (\(Self.location(node.mark)))")
        }
    }

    /// The long form of a short-form tag. `!GetAtt` alone takes `Resource.Attribute` as a scalar.
    private static func expand(shortForm name: String, _ argument: JSONValue, at mark: Mark?) throws -> JSONValue {
        switch name {
        case "Ref", "Condition":
            return .object([name: argument])
        case "GetAtt":
            if case .string(let text) = argument, let dot = text.firstIndex(of: ".") {
                return .object(["Fn::GetAtt": .array([.string(String(text[..<dot])), .string(String(text[text.index(after: dot)...]))])])
            }
            return .object(["Fn::GetAtt": argument])
        default:
            guard Intrinsics.knownFunctions.contains("Fn::\(name)") else {
                throw ReadError.syntax(path: "template", reason: "unknown tag !\(name) at \(Self.location(mark))")
            }
            return .object(["Fn::\(name)": argument])
        }
    }

    static func location(_ mark: Mark?) -> String {
        mark.map { "line \($0.line), column \($0.column)" } ?? "an unknown position"
    }
}
