import Foundation
import Handlers

/// Environment values given on the command line, on top of what the template declares:
/// `--env-vars FILE` in SAM CLI's JSON format and `--env-file FILE` in the `.env` format.
struct EnvironmentOverrides: Sendable, Equatable {
    /// `--env-vars`'s `"Parameters"` object: for every function, names it declares only (as SAM CLI does).
    var everyFunction: [String: String] = [:]
    /// `--env-vars`'s objects keyed by a function's logical id (or its FunctionName): names it declares only.
    var perFunction: [String: [String: String]] = [:]
    /// `--env-file`'s variables: added to every function, declared in the template or not.
    var dotEnv: [String: String] = [:]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The environment of a function after the overrides: `--env-vars` replaces declared values
    /// (the function's own object before `"Parameters"`), then the `.env` file adds and replaces.
    func apply(to declared: [String: String], logicalId: String, functionName: String) -> [String: String] {
        var environment = declared
        let specific = perFunction[logicalId] ?? perFunction[functionName] ?? [:]
        for (name, value) in everyFunction.merging(specific, uniquingKeysWith: { $1 }) where declared[name] != nil {
            environment[name] = value
        }
        return environment.merging(dotEnv) { $1 }
    }

    /// Reads `--env-vars` (SAM's JSON) and `--env-file` (`.env`), either optional.
    static func load(envVars: String?, envFile: String?) throws -> EnvironmentOverrides {
        var overrides = EnvironmentOverrides()
        if let envVars {
            guard let data = FileManager.default.contents(atPath: envVars) else { throw Failure(description: "cannot read --env-vars \(envVars)") }
            guard case .object(let groups) = try? JSONValue(parsing: data) else {
                throw Failure(description: "--env-vars \(envVars) is not a JSON object like {\"Parameters\": {…}, \"FunctionLogicalId\": {…}}")
            }
            for (group, variables) in groups {
                guard case .object(let values) = variables else { throw Failure(description: "--env-vars \(envVars): \(group) is not an object of variables") }
                let strings = try values.mapValues { value -> String in
                    switch value {
                    case .string(let text): return text
                    case .number(let number): return number.rounded() == number ? String(Int64(number)) : String(number)
                    case .bool(let flag): return flag ? "true" : "false"
                    default: throw Failure(description: "--env-vars \(envVars): \(group) has a value that is not a string, number or boolean")
                    }
                }
                if group == "Parameters" { overrides.everyFunction = strings } else { overrides.perFunction[group] = strings }
            }
        }
        if let envFile {
            guard let data = FileManager.default.contents(atPath: envFile) else { throw Failure(description: "cannot read --env-file \(envFile)") }
            overrides.dotEnv = try parseDotEnv(String(decoding: data, as: UTF8.self), file: envFile)
        }
        return overrides
    }

    /// `NAME=value` lines; blank lines and `#` comments skipped, `export ` allowed, values in single
    /// quotes taken literally and in double quotes with `\n`, `\"` and `\\` escapes.
    static func parseDotEnv(_ text: String, file: String) throws -> [String: String] {
        var variables: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "="), case let name = line[..<equals].trimmingCharacters(in: .whitespaces),
                  !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw Failure(description: "\(file):\(index + 1): not NAME=value")
            }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            } else if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                var unescaped = ""
                var escaping = false
                for character in value.dropFirst().dropLast() {
                    if escaping {
                        unescaped.append(character == "n" ? "\n" : character)
                        escaping = false
                    } else if character == "\\" {
                        escaping = true
                    } else {
                        unescaped.append(character)
                    }
                }
                value = unescaped
            } else if let comment = value.range(of: " #") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            variables[name] = value
        }
        return variables
    }
}
