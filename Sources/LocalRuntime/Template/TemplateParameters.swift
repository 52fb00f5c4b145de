import Foundation
import Handlers

/// The values of a template's `Parameters`: each parameter's `Default`, replaced by what
/// `--parameter-overrides` gives, in SAM CLI's syntax (`Key=Value Key2=Value2`, or
/// `ParameterKey=Key,ParameterValue=Value`; values with spaces in quotes).
enum TemplateParameters {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `Ref`'s value of each declared parameter. A parameter with neither an override nor a
    /// `Default` is an error, as `sam deploy` would make it; an override of an undeclared
    /// parameter is an error too, since it is nearly always a typo.
    static func values(declared: JSONValue?, overrides: [String: String]) throws -> [String: JSONValue] {
        guard case .object(let parameters)? = declared else {
            if let name = overrides.keys.sorted().first { throw Failure(description: "--parameter-overrides names \(name), which the template does not declare") }
            return [:]
        }
        if let unknown = overrides.keys.sorted().first(where: { parameters[$0] == nil }) {
            throw Failure(description: "--parameter-overrides names \(unknown), which the template does not declare (it declares \(parameters.keys.sorted().joined(separator: ", ")))")
        }
        var values: [String: JSONValue] = [:]
        for (name, parameter) in parameters {
            let text: String
            if let override = overrides[name] {
                text = override
            } else if let value = parameter["Default"] {
                switch value {
                case .string(let string): text = string
                case .number(let number): text = number.rounded() == number ? String(Int64(number)) : String(number)
                case .bool(let flag): text = flag ? "true" : "false"
                case .array(let items): text = items.compactMap(\.stringValue).joined(separator: ",")
                default: throw Failure(description: "Parameters.\(name).Default is not a scalar")
                }
            } else {
                throw Failure(description: "Parameters.\(name) has no Default: pass it with --parameter-overrides \(name)=VALUE")
            }
            if let allowed = parameter["AllowedValues"]?.arrayValue, !allowed.isEmpty,
               !allowed.contains(where: { (try? Self.scalarText($0)) == text }) {
                throw Failure(description: "Parameters.\(name): \(text) is not one of its AllowedValues")
            }
            let type = parameter["Type"]?.stringValue ?? "String"
            if type == "CommaDelimitedList" || type.hasPrefix("List<") {
                values[name] = .array(text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false)
                    .map { .string($0.trimmingCharacters(in: .whitespaces)) })
            } else {
                values[name] = .string(text)
            }
        }
        return values
    }

    private static func scalarText(_ value: JSONValue) throws -> String {
        switch value {
        case .string(let string): return string
        case .number(let number): return number.rounded() == number ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: throw Failure(description: "not a scalar")
        }
    }

    /// Parses `--parameter-overrides` (each option value may hold several overrides).
    static func parseOverrides(_ arguments: [String]) throws -> [String: String] {
        var overrides: [String: String] = [:]
        for argument in arguments {
            for token in try tokens(argument) {
                if token.hasPrefix("ParameterKey=") {
                    let parts = token.split(separator: ",", maxSplits: 1)
                    guard parts.count == 2, parts[1].hasPrefix("ParameterValue=") else {
                        throw Failure(description: "--parameter-overrides: \(token) is not ParameterKey=KEY,ParameterValue=VALUE")
                    }
                    overrides[String(parts[0].dropFirst("ParameterKey=".count))] = String(parts[1].dropFirst("ParameterValue=".count))
                } else if let equals = token.firstIndex(of: "="), equals != token.startIndex {
                    overrides[String(token[..<equals])] = String(token[token.index(after: equals)...])
                } else {
                    throw Failure(description: "--parameter-overrides: \(token) is not KEY=VALUE")
                }
            }
        }
        return overrides
    }

    /// Splits on unquoted whitespace; double or single quotes group (and are removed), as a shell would.
    static func tokens(_ text: String) throws -> [String] {
        var tokens: [String] = []
        var current = ""
        var quote: Character?
        var inToken = false
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inToken = true
            } else if character.isWhitespace {
                if inToken { tokens.append(current) }
                current = ""
                inToken = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        guard quote == nil else { throw Failure(description: "--parameter-overrides: unclosed quote in \(text)") }
        if inToken { tokens.append(current) }
        return tokens
    }
}
