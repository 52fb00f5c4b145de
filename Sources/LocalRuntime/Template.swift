import Foundation
import Handlers

/// The parts of template.json the local runtime needs: functions, their environment and timeouts,
/// the WebSocket API's routes and the HTTP API's routes. The same file deploys the stack, so local
/// routing can never drift from what AWS runs.
struct Template: Sendable {
    struct Function: Sendable, Equatable {
        var logicalId: String
        var name: FunctionName
        var environment: [String: String]
        var timeout: TimeInterval
        var memorySize: Int
    }

    struct WebSocketRoute: Sendable, Equatable {
        var routeKey: String
        var function: String
        /// Whether the handler's `body` goes back to the client (`RouteResponseSelectionExpression: $default`).
        var returnsResponse: Bool
    }

    struct HTTPRoute: Sendable, Equatable {
        var method: String
        var path: String
        var function: String

        /// Matches API Gateway's path templates: literal segments, `{name}` and a final `{name+}`.
        func pathParameters(for requestPath: String) -> [String: String]? {
            let pattern = path.split(separator: "/", omittingEmptySubsequences: true)
            let actual = requestPath.split(separator: "/", omittingEmptySubsequences: true)
            var parameters: [String: String] = [:]
            for (index, segment) in pattern.enumerated() {
                if segment.hasPrefix("{"), segment.hasSuffix("+}") {
                    guard index < actual.count else { return nil }
                    parameters[String(segment.dropFirst().dropLast(2))] = actual[index...].joined(separator: "/")
                    return parameters
                }
                guard index < actual.count else { return nil }
                if segment.hasPrefix("{"), segment.hasSuffix("}") {
                    parameters[String(segment.dropFirst().dropLast())] = String(actual[index])
                } else if segment != actual[index] {
                    return nil
                }
            }
            return pattern.count == actual.count ? parameters : nil
        }

        func matches(method requestMethod: String) -> Bool {
            method == "ANY" || method == requestMethod.uppercased()
        }
    }

    var functions: [String: Function]
    var stageName: String
    var routeSelectionExpression: String
    var webSocketRoutes: [WebSocketRoute]
    var httpRoutes: [HTTPRoute]

    enum LoadError: Error, CustomStringConvertible {
        case unreadable(String, String)
        case invalid(String)
        var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read template \(path): \(reason)"
            case .invalid(let reason): "template.json is not usable: \(reason)"
            }
        }
    }

    static func load(path: String) throws -> Template {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LoadError.unreadable(path, error.localizedDescription)
        }
        guard let document = try? JSONValue(parsing: data) else {
            throw LoadError.invalid("\(path) is not valid JSON")
        }
        return try Template(document: document)
    }

    init(document: JSONValue) throws {
        guard case .object(let resources)? = document["Resources"] else { throw LoadError.invalid("no Resources") }
        let globals = document["Globals"]?["Function"]
        let globalEnvironment = Self.literalStrings(globals?["Environment"]?["Variables"])
        let globalTimeout = globals?["Timeout"]?.intValue ?? 3
        let globalMemory = globals?["MemorySize"]?.intValue ?? 128

        var functions: [String: Function] = [:]
        var httpRoutes: [HTTPRoute] = []
        for (logicalId, resource) in resources.sorted(by: { $0.key < $1.key }) where resource["Type"]?.stringValue == "AWS::Serverless::Function" {
            let properties = resource["Properties"]
            guard let handler = properties?["Handler"]?.stringValue, let name = FunctionName(rawValue: handler) else {
                throw LoadError.invalid("\(logicalId) has a Handler that is not one of \(FunctionName.allCases.map(\.rawValue))")
            }
            functions[logicalId] = Function(
                logicalId: logicalId, name: name,
                environment: globalEnvironment.merging(Self.literalStrings(properties?["Environment"]?["Variables"])) { $1 },
                timeout: TimeInterval(properties?["Timeout"]?.intValue ?? globalTimeout),
                memorySize: properties?["MemorySize"]?.intValue ?? globalMemory)
            if case .object(let events)? = properties?["Events"] {
                for (_, event) in events.sorted(by: { $0.key < $1.key }) where event["Type"]?.stringValue == "HttpApi" {
                    guard let path = event["Properties"]?["Path"]?.stringValue, let method = event["Properties"]?["Method"]?.stringValue else { continue }
                    httpRoutes.append(HTTPRoute(method: method.uppercased(), path: path, function: logicalId))
                }
            }
        }

        var routeSelection = "$request.body.action"
        var stage = document["Parameters"]?["StageName"]?["Default"]?.stringValue ?? "dev"
        var webSocketRoutes: [WebSocketRoute] = []
        for (_, resource) in resources.sorted(by: { $0.key < $1.key }) {
            let properties = resource["Properties"]
            switch resource["Type"]?.stringValue {
            case "AWS::ApiGatewayV2::Api" where properties?["ProtocolType"]?.stringValue == "WEBSOCKET":
                routeSelection = properties?["RouteSelectionExpression"]?.stringValue ?? routeSelection
            case "AWS::ApiGatewayV2::Stage":
                if let literal = properties?["StageName"]?.stringValue { stage = literal }
            case "AWS::ApiGatewayV2::Route":
                guard let routeKey = properties?["RouteKey"]?.stringValue,
                      let integration = Self.integrationId(properties?["Target"]),
                      let uri = resources[integration]?["Properties"]?["IntegrationUri"],
                      let function = Self.functionReference(uri), functions[function] != nil else {
                    throw LoadError.invalid("a WebSocket route has no Target integration pointing at a function of this template")
                }
                webSocketRoutes.append(WebSocketRoute(
                    routeKey: routeKey, function: function,
                    returnsResponse: properties?["RouteResponseSelectionExpression"]?.stringValue == "$default"))
            default:
                break
            }
        }
        self.functions = functions
        self.stageName = stage
        self.routeSelectionExpression = routeSelection
        self.webSocketRoutes = webSocketRoutes
        self.httpRoutes = httpRoutes
    }

    /// Environment values that are plain strings; intrinsic functions (`Ref` a table, `Fn::Sub` a
    /// secret) and CloudFormation dynamic references (`{{resolve:secretsmanager:…}}`, which only
    /// CloudFormation can resolve) have no local meaning and are left to local defaults and the
    /// process environment.
    static func literalStrings(_ value: JSONValue?) -> [String: String] {
        guard case .object(let object)? = value else { return [:] }
        return object.compactMapValues { value in
            guard let text = value.stringValue, !text.contains("{{resolve:") else { return nil }
            return text
        }
    }

    /// `integrations/{IntegrationLogicalId}` as `Fn::Join`, `Fn::Sub` or a literal.
    private static func integrationId(_ target: JSONValue?) -> String? {
        if case .array(let parts)? = target?["Fn::Join"]?.arrayValue?.last { return parts.last?["Ref"]?.stringValue }
        if let sub = target?["Fn::Sub"]?.stringValue ?? target?.stringValue,
           let open = sub.firstRange(of: "${"), let close = sub[open.upperBound...].firstIndex(of: "}") {
            return String(sub[open.upperBound..<close])
        }
        return nil
    }

    /// The function logical id an integration URI invokes: `${Function.Arn}` or `${Function.Alias}`
    /// in an `Fn::Sub` string, or a `Ref: Function.Alias` / `Fn::GetAtt: [Function, Arn]` in its
    /// variable map (how template.json points API Gateway at a function's `live` alias, because SAM
    /// resolves `Function.Alias` only in a `Ref`).
    static func functionReference(_ uri: JSONValue) -> String? {
        let sub = uri["Fn::Sub"]
        let text = sub?.stringValue ?? sub?.arrayValue?.first?.stringValue ?? ""
        for suffix in [".Arn}", ".Alias}"] {
            guard let end = text.firstRange(of: suffix) else { continue }
            let prefix = text[..<end.lowerBound]
            guard let start = prefix.range(of: "${", options: .backwards) else { continue }
            return String(prefix[start.upperBound...])
        }
        guard case .object(let variables)? = sub?.arrayValue?.dropFirst().first else { return nil }
        for (_, value) in variables.sorted(by: { $0.key < $1.key }) {
            if let reference = value["Ref"]?.stringValue, reference.hasSuffix(".Alias") {
                return String(reference.dropLast(".Alias".count))
            }
            if let getAtt = value["Fn::GetAtt"]?.arrayValue, getAtt.count == 2, getAtt[1].stringValue == "Arn" {
                return getAtt[0].stringValue
            }
        }
        return nil
    }

    /// The function a name refers to: a logical id (`ChatFunction`) or a handler name (`chat`).
    func function(named name: String) -> Function? {
        functions[name] ?? functions.values.sorted { $0.logicalId < $1.logicalId }.first { $0.name.rawValue == name }
    }

    func webSocketRoute(_ routeKey: String) -> WebSocketRoute? {
        webSocketRoutes.first { $0.routeKey == routeKey }
    }

    func httpRoute(method: String, path: String) -> (HTTPRoute, [String: String])? {
        for route in httpRoutes where route.matches(method: method) {
            if let parameters = route.pathParameters(for: path) { return (route, parameters) }
        }
        return nil
    }
}

