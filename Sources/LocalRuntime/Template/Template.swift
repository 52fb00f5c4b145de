import Foundation
import Handlers

/// What the local runtime reads from a SAM or CloudFormation template (YAML or JSON): functions,
/// their code, runtime, environment and limits, the WebSocket API's routes and the HTTP routes.
/// The same file deploys the stack, so local routing can never drift from what AWS runs.
struct Template: Sendable {
    struct Function: Sendable, Equatable {
        var logicalId: String
        /// This project's Swift handler the function is (run in-process or as the `bootstrap`), or
        /// nil for any other code, which runs in its runtime's process over the Runtime API.
        var builtIn: FunctionName?
        /// The template's `Handler` (for a built-in function, its name).
        var handler: String
        var runtime: String
        /// The function's code, a folder or a zip, as an absolute path resolved against the
        /// template's folder; nil for built-in functions, whose code is this program.
        var codeUri: String?
        /// The deployed name (`FunctionName`, else the logical id): `AWS_LAMBDA_FUNCTION_NAME`.
        var functionName: String
        var environment: [String: String]
        var timeout: TimeInterval
        var memorySize: Int

        /// The handler name logs, metrics and fixtures show.
        var displayName: String { builtIn?.rawValue ?? logicalId }
    }
    struct WebSocketRoute: Sendable, Equatable {
        var routeKey: String
        var function: String
        /// Whether the handler's `body` goes back to the client (`RouteResponseSelectionExpression: $default`).
        var returnsResponse: Bool
        /// The logical id of the route's authorizer (`AuthorizerId`), if it has one.
        var authorizer: String? = nil
    }

    struct HTTPRoute: Sendable, Equatable {
        /// The event a route's function receives.
        enum Payload: Sendable, Equatable {
            /// HTTP API, payload format 2.0 (the default).
            case httpAPI
            /// HTTP API with `PayloadFormatVersion: "1.0"`: the REST proxy shape with `"version": "1.0"`.
            case httpAPIVersion1
            /// REST API (`Api` events): the proxy integration's event, in the named stage.
            case rest(stage: String)

            /// The stage in the ARNs the route's requests are authorized for: a REST API's own,
            /// an HTTP API's `$default`.
            var stage: String {
                if case .rest(let stage) = self { stage } else { "$default" }
            }
        }

        var method: String
        var path: String
        var function: String
        var payload: Payload = .httpAPI
        /// The logical id of the route's authorizer, if it has one.
        var authorizer: String? = nil
        /// SAM's `Auth.ApiKeyRequired` (a REST API's or the event's): a request without an
        /// `x-api-key` header is 403. Locally any key is accepted: there are no usage plans' keys.
        var apiKeyRequired = false
        /// The OAuth scopes a JWT or Cognito authorizer requires of the route's token (one of them):
        /// the route's own `AuthorizationScopes`, else its authorizer's. None: any valid token (for
        /// a Cognito authorizer, an ID token).
        var authorizationScopes: [String] = []
        /// The CORS settings of the route's API, which the stage applies as API Gateway does.
        var cors: CORSConfiguration? = nil

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

        /// The route that takes every request no other route matches.
        var isDefault: Bool { path == "$default" }

        func matches(method requestMethod: String) -> Bool {
            method == "ANY" || method == requestMethod.uppercased()
        }
    }

    var functions: [String: Function]
    /// Lambda authorizers of the served APIs, by logical id.
    var authorizers: [String: Authorizer] = [:]
    /// Paths of the `Auth` settings the stage does not enforce (resource policies, usage plans,
    /// authorization scopes); `serve` names each when it starts.
    var notEmulated: [String] = []
    var stageName: String
    var routeSelectionExpression: String
    var webSocketRoutes: [WebSocketRoute]
    var httpRoutes: [HTTPRoute]
    /// The region and account the stack is resolved in (`AWS::Region`, `AWS::AccountId`).
    var region: String
    var accountId: String

    enum LoadError: Error, CustomStringConvertible {
        case invalid(String)
        var description: String {
            switch self {
            case .invalid(let reason): "the template is not usable: \(reason)"
            }
        }
    }

    /// What the command line adds to a template: parameter values, environment files, the region.
    struct Inputs: Sendable {
        var parameterOverrides: [String: String] = [:]
        var environment = EnvironmentOverrides()
        var region = "us-east-1"
        var accountId = "123456789012"
        var stackName = "local"
        /// The WebSocket API to serve, by logical id, when the template has several.
        var webSocketAPI: String?
    }

    static func load(path: String, inputs: Inputs = Inputs()) throws -> Template {
        let document = try TemplateDocument.read(path: path)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try Template(document: document, directory: directory, inputs: inputs)
    }

    init(document: JSONValue, directory: String = FileManager.default.currentDirectoryPath, inputs: Inputs = Inputs()) throws {
        guard case .object(let resources)? = document["Resources"] else { throw LoadError.invalid("no Resources") }
        let intrinsics: Intrinsics
        do {
            intrinsics = Intrinsics(
                parameters: try TemplateParameters.values(declared: document["Parameters"], overrides: inputs.parameterOverrides),
                resources: resources, mappings: document["Mappings"], conditions: document["Conditions"],
                region: inputs.region, accountId: inputs.accountId, stackName: inputs.stackName)
        } catch {
            throw LoadError.invalid("\(error)")
        }
        let reader = TemplateReader(resources: resources, intrinsics: intrinsics, directory: directory,
                                    globals: document["Globals"]?["Function"], environment: inputs.environment,
                                    samGlobals: document["Globals"], webSocketAPIChoice: inputs.webSocketAPI)
        do {
            functions = try reader.functions()
            let webSocket = try reader.webSocketAPI(functions: functions,
                                                    defaultStage: document["Parameters"]?["StageName"]?["Default"]?.stringValue ?? "dev")
            stageName = webSocket.stageName
            routeSelectionExpression = webSocket.routeSelectionExpression
            webSocketRoutes = webSocket.routes
            httpRoutes = try reader.httpRoutes(functions: functions)
            authorizers = try reader.authorizers(functions: functions).merging(reader.samAuthorizers(functions: functions)) { own, _ in own }
            notEmulated = try reader.samAuthNotEmulated()
            // A route is never served without the authorizer its template gives it.
            let declared = Set(authorizers.keys)
            let named = httpRoutes.map { ("\($0.method) \($0.path)", $0.authorizer) } + webSocketRoutes.map { ($0.routeKey, $0.authorizer) }
            for (route, authorizer) in named {
                if let authorizer, !declared.contains(authorizer) {
                    throw LoadError.invalid("the route \(route) names the authorizer \(authorizer), which the template does not declare")
                }
            }
        } catch let failure as Intrinsics.Failure {
            throw LoadError.invalid("\(failure)")
        }
        region = inputs.region
        accountId = inputs.accountId
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
        let sorted = functions.values.sorted { $0.logicalId < $1.logicalId }
        return functions[name] ?? sorted.first { $0.builtIn?.rawValue == name } ?? sorted.first { $0.functionName == name }
    }

    func webSocketRoute(_ routeKey: String) -> WebSocketRoute? {
        webSocketRoutes.first { $0.routeKey == routeKey }
    }

    /// The CORS settings of the API serving `path` (by any method), if it has any: what a preflight
    /// to the path is answered with. The routes of the path speak for it; `$default` routes only
    /// for a path no other route serves.
    func cors(forPath path: String) -> CORSConfiguration? {
        let serving = httpRoutes.filter { !$0.isDefault && $0.pathParameters(for: path) != nil }
        return (serving.isEmpty ? httpRoutes.filter(\.isDefault) : serving).first { $0.cors != nil }?.cors
    }

    func httpRoute(method: String, path: String) -> (HTTPRoute, [String: String])? {
        for route in httpRoutes where route.matches(method: method) && !route.isDefault {
            if let parameters = route.pathParameters(for: path) { return (route, parameters) }
        }
        return httpRoutes.first(where: \.isDefault).map { ($0, [:]) }
    }
}

