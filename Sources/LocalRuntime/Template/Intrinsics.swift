import Foundation
import Handlers

/// Evaluates CloudFormation's intrinsic functions over the parts of a template the local runtime
/// reads (environment variables, routes, integrations, stage names, code locations), the way
/// CloudFormation would for a stack in `region` of `accountId` named `stackName`.
///
/// Only values are resolved, never whole templates: a resource nobody reads locally may use any
/// function. A function that cannot have a local meaning (`Fn::ImportValue`, `Fn::GetAZs`, …) is
/// refused with its name and the path of the value that uses it.
struct Intrinsics: Sendable {
    /// Every function CloudFormation knows, for the YAML reader's short-form tags.
    static let knownFunctions: Set<String> = [
        "Fn::Sub", "Fn::Join", "Fn::GetAtt", "Fn::If", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::Equals", "Fn::Not",
        "Fn::And", "Fn::Or", "Fn::Base64", "Fn::ImportValue", "Fn::GetAZs", "Fn::Cidr", "Fn::Transform", "Fn::Length",
        "Fn::ToJsonString", "Fn::ForEach",
    ]

    struct Failure: Error, CustomStringConvertible, Equatable {
        var reason: String
        var path: String
        var description: String { "\(path): \(reason)" }
    }

    /// What `Ref` of each parameter gives: a string, or a list for `CommaDelimitedList` and `List<…>`.
    let parameters: [String: JSONValue]
    let resources: [String: JSONValue]
    let mappings: JSONValue?
    let conditions: JSONValue?
    let region: String
    let accountId: String
    let stackName: String

    /// Nesting deeper than this is a cycle (conditions naming each other, resources naming themselves).
    private static let maxDepth = 64

    /// The value with every intrinsic function evaluated; nil when it is `AWS::NoValue` (or an
    /// `Fn::If` branch that is), which removes the property that holds it.
    func resolve(_ value: JSONValue, at path: String) throws -> JSONValue? {
        try resolve(value, at: path, depth: 0)
    }

    /// A resolved string (numbers and booleans as CloudFormation turns them into text), or a failure naming `path`.
    func string(_ value: JSONValue, at path: String) throws -> String? {
        guard let resolved = try resolve(value, at: path) else { return nil }
        return try text(resolved, at: path)
    }

    /// Whether the named condition of the template holds.
    func condition(_ name: String, at path: String) throws -> Bool {
        try condition(name, at: path, depth: 0)
    }

    private func condition(_ name: String, at path: String, depth: Int) throws -> Bool {
        guard let definition = conditions?[name] else { throw Failure(reason: "no condition \(name) in Conditions", path: path) }
        return try truth(definition, at: "Conditions.\(name)", depth: depth + 1)
    }

    private func resolve(_ value: JSONValue, at path: String, depth: Int) throws -> JSONValue? {
        guard depth < Self.maxDepth else { throw Failure(reason: "intrinsic functions nest too deeply (a cycle?)", path: path) }
        switch value {
        case .array(let items):
            return .array(try items.enumerated().compactMap { try resolve($1, at: "\(path)[\($0)]", depth: depth + 1) })
        case .object(let object):
            if object.count == 1, let (name, argument) = object.first, name == "Ref" || name.hasPrefix("Fn::") {
                return try function(name, argument, at: "\(path).\(name)", depth: depth + 1)
            }
            var resolved: [String: JSONValue] = [:]
            for (key, item) in object {
                resolved[key] = try resolve(item, at: "\(path).\(key)", depth: depth + 1)
            }
            return .object(resolved)
        default:
            return value
        }
    }

    private func function(_ name: String, _ argument: JSONValue, at path: String, depth: Int) throws -> JSONValue? {
        func resolved(_ value: JSONValue) throws -> JSONValue {
            guard let value = try resolve(value, at: path, depth: depth) else {
                throw Failure(reason: "AWS::NoValue cannot be an argument of \(name)", path: path)
            }
            return value
        }
        func arguments(_ count: Int) throws -> [JSONValue] {
            guard case .array(let items) = argument, items.count == count else {
                throw Failure(reason: "\(name) takes a list of \(count) arguments", path: path)
            }
            return items
        }
        switch name {
        case "Ref":
            guard case .string(let target) = argument else { throw Failure(reason: "Ref takes a name", path: path) }
            return try reference(target, at: path, depth: depth)
        case "Fn::GetAtt":
            let parts: [String]
            switch try resolved(argument) {
            case .array(let items) where items.count == 2: parts = try items.map { try text($0, at: path) }
            case .string(let dotted): parts = dotted.split(separator: ".", maxSplits: 1).map(String.init)
            default: throw Failure(reason: "Fn::GetAtt takes [Resource, Attribute]", path: path)
            }
            guard parts.count == 2 else { throw Failure(reason: "Fn::GetAtt takes [Resource, Attribute]", path: path) }
            return .string(try attribute(parts[1], of: parts[0], at: path, depth: depth))
        case "Fn::Sub":
            let template: String
            var variables: [String: String] = [:]
            switch argument {
            case .string(let text): template = text
            case .array(let items) where items.count == 2:
                guard case .string(let text) = items[0], case .object(let map) = items[1] else {
                    throw Failure(reason: "Fn::Sub takes a string or [string, {variables}]", path: path)
                }
                template = text
                for (key, value) in map { variables[key] = try self.text(try resolved(value), at: "\(path).\(key)") }
            default: throw Failure(reason: "Fn::Sub takes a string or [string, {variables}]", path: path)
            }
            return .string(try substitute(template, variables: variables, at: path, depth: depth))
        case "Fn::Join":
            let items = try arguments(2)
            guard case .string(let delimiter) = items[0], case .array(let list) = try resolved(items[1]) else {
                throw Failure(reason: "Fn::Join takes [delimiter, [values]]", path: path)
            }
            return .string(try list.map { try text($0, at: path) }.joined(separator: delimiter))
        case "Fn::Split":
            let items = try arguments(2)
            guard case .string(let delimiter) = items[0], !delimiter.isEmpty else { throw Failure(reason: "Fn::Split takes [delimiter, string]", path: path) }
            let source = try text(try resolved(items[1]), at: path)
            return .array(source.components(separatedBy: delimiter).map(JSONValue.string))
        case "Fn::Select":
            let items = try arguments(2)
            guard let index = Int(try text(try resolved(items[0]), at: path)), case .array(let list) = try resolved(items[1]) else {
                throw Failure(reason: "Fn::Select takes [index, [values]]", path: path)
            }
            guard list.indices.contains(index) else { throw Failure(reason: "Fn::Select index \(index) is outside the list of \(list.count)", path: path) }
            return list[index]
        case "Fn::If":
            let items = try arguments(3)
            guard case .string(let conditionName) = items[0] else { throw Failure(reason: "Fn::If takes [condition, then, else]", path: path) }
            return try resolve(try condition(conditionName, at: path, depth: depth) ? items[1] : items[2], at: path, depth: depth)
        case "Fn::FindInMap":
            let items = try arguments(3)
            let keys = try items.map { try text(try resolved($0), at: path) }
            guard let found = mappings?[keys[0]]?[keys[1]]?[keys[2]] else {
                throw Failure(reason: "Mappings has no \(keys.joined(separator: "."))", path: path)
            }
            return found
        case "Fn::Base64":
            return .string(Data(try text(try resolved(argument), at: path).utf8).base64EncodedString())
        case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
            return .bool(try truth(.object([name: argument]), at: path, depth: depth))
        default:
            throw Failure(reason: "\(name) is not supported by local-runtime (it has no local value); "
                          + "replace it with a parameter and pass the value with --parameter-overrides", path: path)
        }
    }

    private func truth(_ value: JSONValue, at path: String, depth: Int) throws -> Bool {
        guard depth < Self.maxDepth else { throw Failure(reason: "conditions nest too deeply (a cycle?)", path: path) }
        guard case .object(let object) = value, object.count == 1, let (name, argument) = object.first else {
            if case .bool(let flag) = value { return flag }
            throw Failure(reason: "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition", path: path)
        }
        let items = argument.arrayValue ?? []
        switch name {
        case "Condition":
            guard case .string(let other) = argument else { throw Failure(reason: "Condition takes a name", path: path) }
            return try condition(other, at: path, depth: depth + 1)
        case "Fn::Equals":
            guard items.count == 2 else { throw Failure(reason: "Fn::Equals takes two values", path: path) }
            let sides = try items.map { try resolve($0, at: path, depth: depth + 1).map { try text($0, at: path) } }
            return sides[0] == sides[1]
        case "Fn::Not":
            guard items.count == 1 else { throw Failure(reason: "Fn::Not takes one condition", path: path) }
            return try !truth(items[0], at: "\(path).Fn::Not", depth: depth + 1)
        case "Fn::And":
            return try items.allSatisfy { try truth($0, at: "\(path).Fn::And", depth: depth + 1) }
        case "Fn::Or":
            return try items.contains { try truth($0, at: "\(path).Fn::Or", depth: depth + 1) }
        default:
            throw Failure(reason: "\(name) is not a condition function", path: path)
        }
    }

    /// `Ref`: a pseudo parameter, a parameter, or a resource's local physical name.
    private func reference(_ target: String, at path: String, depth: Int) throws -> JSONValue? {
        switch target {
        case "AWS::NoValue": return nil
        case "AWS::Region": return .string(region)
        case "AWS::AccountId": return .string(accountId)
        case "AWS::StackName": return .string(stackName)
        case "AWS::StackId": return .string("arn:aws:cloudformation:\(region):\(accountId):stack/\(stackName)/00000000-0000-0000-0000-000000000000")
        case "AWS::Partition": return .string("aws")
        case "AWS::URLSuffix": return .string("amazonaws.com")
        case "AWS::NotificationARNs": return .array([])
        default: break
        }
        if let value = parameters[target] { return value }
        if resources[target] != nil { return .string(try physicalName(target, at: path, depth: depth)) }
        // SAM's `Function.Alias` (AutoPublishAlias): the alias's ARN.
        if target.hasSuffix(".Alias"), case let function = String(target.dropLast(".Alias".count)), resources[function] != nil {
            return .string(try attribute("Alias", of: function, at: path, depth: depth))
        }
        throw Failure(reason: "Ref \(target) names no parameter, pseudo parameter or resource of this template", path: path)
    }

    /// The name a resource has locally: its own name property when the template sets one, else its
    /// logical id. An API's `Name` is not what `Ref` gives in AWS (that is the API's id), so APIs
    /// are known by their logical ids, which is what routes and events that `Ref` them look up.
    func physicalName(_ logicalId: String, at path: String) throws -> String {
        try physicalName(logicalId, at: path, depth: 0)
    }

    private func physicalName(_ logicalId: String, at path: String, depth: Int) throws -> String {
        let properties = resources[logicalId]?["Properties"]
        for key in ["FunctionName", "TableName", "QueueName", "TopicName", "BucketName", "RoleName", "Name"] {
            guard key != "Name" || !Self.isAPI(resources[logicalId]?["Type"]?.stringValue),
                  let value = properties?[key] else { continue }
            if let name = try resolve(value, at: "Resources.\(logicalId).Properties.\(key)", depth: depth + 1) {
                return try text(name, at: path)
            }
        }
        return logicalId
    }

    /// Whether a resource type is an API Gateway API (or SAM's), whose `Ref` is its id.
    private static func isAPI(_ type: String?) -> Bool {
        guard let type else { return false }
        return type.hasPrefix("AWS::ApiGateway") || type == "AWS::Serverless::Api" || type == "AWS::Serverless::HttpApi"
    }

    /// `Fn::GetAtt`: ARNs as AWS forms them for the types apps reference; other attributes of any
    /// resource are `Resource.Attribute`, enough to tell them apart in an environment variable.
    private func attribute(_ attribute: String, of logicalId: String, at path: String, depth: Int) throws -> String {
        guard let resource = resources[logicalId] else {
            throw Failure(reason: "Fn::GetAtt names \(logicalId), which is not a resource of this template", path: path)
        }
        let name = try physicalName(logicalId, at: path, depth: depth)
        let type = resource["Type"]?.stringValue ?? ""
        switch (type, attribute) {
        case ("AWS::Serverless::Function", "Arn"), ("AWS::Lambda::Function", "Arn"):
            return Self.functionArn(name, region: region, accountId: accountId)
        case ("AWS::Serverless::Function", "Alias"):
            let alias = resource["Properties"]?["AutoPublishAlias"]?.stringValue ?? "live"
            return "\(Self.functionArn(name, region: region, accountId: accountId)):\(alias)"
        case ("AWS::DynamoDB::Table", "Arn"), ("AWS::Serverless::SimpleTable", "Arn"):
            return "arn:aws:dynamodb:\(region):\(accountId):table/\(name)"
        case ("AWS::DynamoDB::Table", "StreamArn"):
            return "arn:aws:dynamodb:\(region):\(accountId):table/\(name)/stream/1970-01-01T00:00:00.000"
        case ("AWS::SQS::Queue", "Arn"):
            return "arn:aws:sqs:\(region):\(accountId):\(name)"
        case ("AWS::SQS::Queue", "QueueUrl"):
            return "https://sqs.\(region).amazonaws.com/\(accountId)/\(name)"
        case ("AWS::SNS::Topic", "TopicArn"):
            return "arn:aws:sns:\(region):\(accountId):\(name)"
        case ("AWS::IAM::Role", "Arn"):
            return "arn:aws:iam::\(accountId):role/\(name)"
        case (_, "Arn"):
            return "arn:aws:local:\(region):\(accountId):\(name)"
        default:
            return "\(logicalId).\(attribute)"
        }
    }

    static func functionArn(_ name: String, region: String, accountId: String) -> String {
        "arn:aws:lambda:\(region):\(accountId):function:\(name)"
    }

    /// `Fn::Sub`'s `${Name}` (a variable, parameter, pseudo parameter or resource), `${Resource.Attribute}`
    /// and the literal `${!Text}`.
    private func substitute(_ template: String, variables: [String: String], at path: String, depth: Int) throws -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.firstRange(of: "${") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw Failure(reason: "Fn::Sub has an unclosed ${ in \"\(template)\"", path: path)
            }
            let name = String(rest[open.upperBound..<close])
            if name.hasPrefix("!") {
                output += "${\(name.dropFirst())}"
            } else if let value = variables[name] {
                output += value
            } else if let dot = name.firstIndex(of: "."), resources[String(name[..<dot])] != nil {
                output += try attribute(String(name[name.index(after: dot)...]), of: String(name[..<dot]), at: path, depth: depth)
            } else if let value = try reference(name, at: path, depth: depth) {
                output += try text(value, at: path)
            }
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }

    /// A scalar as the text CloudFormation gives it: numbers without a fraction as integers.
    func text(_ value: JSONValue, at path: String) throws -> String {
        switch value {
        case .string(let text): return text
        case .number(let number): return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let items): return try items.map { try text($0, at: path) }.joined(separator: ",")
        default: throw Failure(reason: "expected a string, found \(value)", path: path)
        }
    }
}
