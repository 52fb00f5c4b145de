import Foundation
import Handlers

/// Reads functions and APIs out of a template's resources, resolving intrinsic functions in the
/// values it reads and naming the path of anything it cannot use.
struct TemplateReader {
    let resources: [String: JSONValue]
    let intrinsics: Intrinsics
    /// The template's folder: `CodeUri` and other paths are relative to it, as in SAM CLI.
    let directory: String
    let globals: JSONValue?
    let environment: EnvironmentOverrides
    /// `Globals`: what SAM's APIs, the implicit ones included, take by default (`HttpApi.Auth`, `Api.Auth`).
    var samGlobals: JSONValue? = nil
    /// Which WebSocket API to serve when the template has several (`--websocket-api`).
    var webSocketAPIChoice: String? = nil

    private typealias Failure = Intrinsics.Failure

    /// Resources of `types` that are part of the stack (their `Condition`, if any, holds), by logical id.
    func resources(of types: Set<String>) throws -> [(String, JSONValue)] {
        try resources.sorted { $0.key < $1.key }.filter { logicalId, resource in
            guard let type = resource["Type"]?.stringValue, types.contains(type) else { return false }
            guard let condition = resource["Condition"]?.stringValue else { return true }
            return try intrinsics.condition(condition, at: "Resources.\(logicalId).Condition")
        }
    }

    // MARK: Functions

    func functions() throws -> [String: Template.Function] {
        var functions: [String: Template.Function] = [:]
        for (logicalId, resource) in try resources(of: ["AWS::Serverless::Function", "AWS::Lambda::Function"]) {
            functions[logicalId] = try function(logicalId, resource)
        }
        return functions
    }

    private func function(_ logicalId: String, _ resource: JSONValue) throws -> Template.Function {
        let serverless = resource["Type"]?.stringValue == "AWS::Serverless::Function"
        let path = "Resources.\(logicalId).Properties"
        // Globals apply to AWS::Serverless::Function only; maps merge, other values are replaced.
        let properties = serverless ? Self.merge(globals ?? .object([:]), resource["Properties"] ?? .object([:])) : resource["Properties"] ?? .object([:])
        func string(_ key: String) throws -> String? {
            try properties[key].flatMap { try intrinsics.string($0, at: "\(path).\(key)") }
        }
        func integer(_ key: String, default fallback: Int) throws -> Int {
            guard let text = try string(key) else { return fallback }
            guard let value = Int(text), value > 0 else { throw Failure(reason: "\(key) must be a positive whole number, not \(text)", path: "\(path).\(key)") }
            return value
        }
        if properties["PackageType"]?.stringValue == "Image" {
            throw Failure(reason: "container image functions (PackageType: Image) are not supported; use a zip runtime", path: "\(path).PackageType")
        }
        let runtime = try string("Runtime") ?? "provided.al2023"
        let handler = try string("Handler") ?? "bootstrap"
        let builtIn = runtime.hasPrefix("provided") ? FunctionName(rawValue: handler) : nil
        let codeUri = builtIn == nil ? try code(properties, serverless: serverless, at: path) : nil
        guard builtIn != nil || RuntimeFamily(runtime) != nil else {
            throw Failure(reason: "Runtime \(runtime) is not supported (supported: provided.al2023, provided.al2, python3.x, nodejs*)", path: "\(path).Runtime")
        }
        let functionName = try intrinsics.physicalName(logicalId, at: path)
        let variables = properties["Environment"]?["Variables"]
        var declared: [String: String]
        if builtIn != nil {
            // This project's functions take deployed secrets and endpoints from local-runtime itself.
            declared = Template.literalStrings(variables)
        } else {
            declared = [:]
            if case .object(let values)? = variables {
                for (name, value) in values {
                    guard let text = try intrinsics.string(value, at: "\(path).Environment.Variables.\(name)"),
                          !text.contains("{{resolve:") else { continue }
                    declared[name] = text
                }
            }
        }
        return Template.Function(
            logicalId: logicalId, builtIn: builtIn, handler: handler, runtime: runtime, codeUri: codeUri, functionName: functionName,
            environment: environment.apply(to: declared, logicalId: logicalId, functionName: functionName),
            timeout: TimeInterval(try integer("Timeout", default: 3)), memorySize: try integer("MemorySize", default: 128))
    }

    /// The absolute path of `CodeUri` (SAM) or `Code` (a local path, as `sam build` and `aws
    /// cloudformation package` read it).
    private func code(_ properties: JSONValue, serverless: Bool, at path: String) throws -> String {
        let key = serverless ? "CodeUri" : "Code"
        if properties["InlineCode"] != nil || properties["Code"]?["ZipFile"] != nil {
            throw Failure(reason: "inline code is not supported; put the code in a folder and point CodeUri at it", path: path)
        }
        guard let value = properties[key] else {
            throw Failure(reason: "no \(key): local-runtime runs the code in the folder or zip it names", path: path)
        }
        guard case .string = value, let relative = try intrinsics.string(value, at: "\(path).\(key)") else {
            throw Failure(reason: "\(key) must be a local folder or zip (an S3 location is what `sam package` writes, not the source)", path: "\(path).\(key)")
        }
        let url = relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : URL(fileURLWithPath: directory).appendingPathComponent(relative)
        return url.standardizedFileURL.path
    }

    /// `override` on top of `base`: objects merge key by key, anything else is replaced.
    static func merge(_ base: JSONValue, _ override: JSONValue) -> JSONValue {
        guard case .object(let lower) = base, case .object(let upper) = override else { return override }
        return .object(lower.merging(upper) { merge($0, $1) })
    }

    // MARK: APIs

    struct WebSocketAPI {
        var stageName: String
        var routeSelectionExpression: String
        var routes: [Template.WebSocketRoute]
    }

    /// The template's WebSocket API (`AWS::ApiGatewayV2::Api` with `ProtocolType: WEBSOCKET`).
    func webSocketAPI(functions: [String: Template.Function], defaultStage: String) throws -> WebSocketAPI {
        let apis = try resources(of: ["AWS::ApiGatewayV2::Api"]).filter { $0.1["Properties"]?["ProtocolType"]?.stringValue == "WEBSOCKET" }
        if let choice = webSocketAPIChoice, !apis.contains(where: { $0.0 == choice }) {
            throw Failure(reason: "--websocket-api \(choice) is not a WebSocket API of this template (it has \(apis.map(\.0).joined(separator: ", ")))", path: "Resources")
        }
        if webSocketAPIChoice == nil, apis.count > 1 {
            throw Failure(reason: "the template has several WebSocket APIs (\(apis.map(\.0).joined(separator: ", "))); one stage serves one: "
                          + "choose it with --websocket-api, and run one serve per API on its own --port", path: "Resources")
        }
        guard let (apiId, api) = apis.first(where: { webSocketAPIChoice == nil || $0.0 == webSocketAPIChoice }) else {
            return WebSocketAPI(stageName: defaultStage, routeSelectionExpression: "$request.body.action", routes: [])
        }
        var result = WebSocketAPI(
            stageName: defaultStage,
            routeSelectionExpression: try api["Properties"]?["RouteSelectionExpression"].flatMap {
                try intrinsics.string($0, at: "Resources.\(apiId).Properties.RouteSelectionExpression")
            } ?? "$request.body.action",
            routes: [])
        for (logicalId, stage) in try resources(of: ["AWS::ApiGatewayV2::Stage"]) where try belongs(stage, to: apiId, logicalId) {
            if let name = try stage["Properties"]?["StageName"].flatMap({ try intrinsics.string($0, at: "Resources.\(logicalId).Properties.StageName") }) {
                result.stageName = name
            }
        }
        let routeResponses = try Set(resources(of: ["AWS::ApiGatewayV2::RouteResponse"]).compactMap { logicalId, response in
            try response["Properties"]?["RouteId"].flatMap { try intrinsics.string($0, at: "Resources.\(logicalId).Properties.RouteId") }
        })
        for (logicalId, route) in try resources(of: ["AWS::ApiGatewayV2::Route"]) where try belongs(route, to: apiId, logicalId) {
            let path = "Resources.\(logicalId).Properties"
            guard let routeKey = try route["Properties"]?["RouteKey"].flatMap({ try intrinsics.string($0, at: "\(path).RouteKey") }) else {
                throw Failure(reason: "a route needs a RouteKey", path: path)
            }
            let function = try integratedFunction(route, at: path, functions: functions)
            let returnsResponse = try route["Properties"]?["RouteResponseSelectionExpression"].flatMap {
                try intrinsics.string($0, at: "\(path).RouteResponseSelectionExpression")
            } == "$default" || routeResponses.contains(logicalId)
            result.routes.append(Template.WebSocketRoute(routeKey: routeKey, function: function, returnsResponse: returnsResponse,
                                                         authorizer: try routeAuthorizer(route, at: path)))
        }
        return result
    }

    /// Whether a route or stage's `ApiId` is the API `apiId` (or names no API, in a template with one).
    private func belongs(_ resource: JSONValue, to apiId: String, _ logicalId: String) throws -> Bool {
        guard let value = resource["Properties"]?["ApiId"] else { return true }
        return try intrinsics.string(value, at: "Resources.\(logicalId).Properties.ApiId") == apiId
    }

    /// The function a route's `Target: integrations/ID` invokes through its integration's `IntegrationUri`.
    private func integratedFunction(_ route: JSONValue, at path: String, functions: [String: Template.Function]) throws -> String {
        guard let targetValue = route["Properties"]?["Target"], let target = try intrinsics.string(targetValue, at: "\(path).Target"),
              target.hasPrefix("integrations/") else {
            throw Failure(reason: "a route needs a Target of the form integrations/IntegrationId", path: "\(path).Target")
        }
        let integrationId = String(target.dropFirst("integrations/".count))
        guard let uri = resources[integrationId]?["Properties"]?["IntegrationUri"] else {
            throw Failure(reason: "the Target names \(integrationId), which is not an integration with an IntegrationUri", path: "\(path).Target")
        }
        let uriPath = "Resources.\(integrationId).Properties.IntegrationUri"
        if let function = Template.functionReference(uri), functions[function] != nil { return function }
        guard let resolved = try intrinsics.string(uri, at: uriPath), let function = Self.function(invokedBy: resolved, in: functions) else {
            throw Failure(reason: "the integration invokes no function of this template", path: uriPath)
        }
        return function
    }

    /// The function an `arn:aws:apigateway:…:lambda:path/2015-03-31/functions/ARN/invocations` URI
    /// (or a bare function ARN, as HTTP APIs take) invokes, alias or version qualifier ignored.
    static func function(invokedBy uri: String, in functions: [String: Template.Function]) -> String? {
        var arn = Substring(uri)
        if let start = arn.firstRange(of: "/functions/"), let end = arn.range(of: "/invocations", options: .backwards) {
            arn = arn[start.upperBound..<end.lowerBound]
        }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 7, parts[5] == "function" else { return nil }
        let name = String(parts[6])
        return functions.values.sorted { $0.logicalId < $1.logicalId }.first { $0.functionName == name }?.logicalId
    }

    /// The stage of the REST API `api`: its `StageName`, else (SAM's implicit API) `Prod`.
    private func restStage(of api: String) throws -> String {
        guard let stage = resources[api]?["Properties"]?["StageName"] else { return "Prod" }
        return try intrinsics.string(stage, at: "Resources.\(api).Properties.StageName") ?? "Prod"
    }

    /// `PayloadFormatVersion` of the integration a raw `AWS::ApiGatewayV2::Route` targets.
    private func integrationPayloadFormat(_ route: JSONValue, at path: String) throws -> String? {
        guard let target = try route["Properties"]?["Target"].flatMap({ try intrinsics.string($0, at: "\(path).Target") }),
              case let integrationId = String(target.dropFirst("integrations/".count)),
              let version = resources[integrationId]?["Properties"]?["PayloadFormatVersion"] else { return nil }
        return try intrinsics.string(version, at: "Resources.\(integrationId).Properties.PayloadFormatVersion")
    }

    /// HTTP routes: `HttpApi` and `Api` events of functions (no Path and Method: the `$default` route), and
    /// routes of `AWS::ApiGatewayV2::Api`s with `ProtocolType: HTTP` ("GET /items", "$default").
    func httpRoutes(functions: [String: Template.Function]) throws -> [Template.HTTPRoute] {
        var routes: [Template.HTTPRoute] = []
        for (logicalId, resource) in try resources(of: ["AWS::Serverless::Function"]) where functions[logicalId] != nil {
            guard case .object(let events)? = resource["Properties"]?["Events"] else { continue }
            for (eventId, event) in events.sorted(by: { $0.key < $1.key }) {
                let type = event["Type"]?.stringValue
                guard type == "HttpApi" || type == "Api" else { continue }
                let path = "Resources.\(logicalId).Properties.Events.\(eventId).Properties"
                let properties = event["Properties"]
                let kind: SAMAPI = type == "Api" ? .rest : .http
                let api = try samAPI(of: properties, kind, at: path)
                let authorizer = try samRouteAuthorizer(properties, api: api, kind, at: path)
                let apiKeyRequired = try kind == .rest && samAPIKeyRequired(properties, api: api, at: path)
                let scopes = try samAuthorizationScopes(properties, api: api, authorizer: authorizer, kind, at: path)
                let cors = try samCORS(api: api, kind)
                let routePath = try properties?["Path"].flatMap { try intrinsics.string($0, at: "\(path).Path") }
                let method = try properties?["Method"].flatMap { try intrinsics.string($0, at: "\(path).Method") }
                let payload: Template.HTTPRoute.Payload
                if type == "Api" {
                    guard routePath != nil, method != nil else { throw Failure(reason: "an Api event needs Path and Method", path: path) }
                    payload = .rest(stage: try restStage(of: api))
                } else {
                    let version = try properties?["PayloadFormatVersion"].flatMap { try intrinsics.string($0, at: "\(path).PayloadFormatVersion") }
                    payload = version == "1.0" ? .httpAPIVersion1 : .httpAPI
                }
                routes.append(Template.HTTPRoute(method: (method ?? "ANY").uppercased(), path: routePath ?? "$default", function: logicalId,
                                                 payload: payload, authorizer: authorizer.map { Self.authorizerKey(api: api, name: $0) },
                                                 apiKeyRequired: apiKeyRequired,
                                                 authorizationScopes: scopes, cors: cors))
            }
        }
        let httpAPIs = try resources(of: ["AWS::ApiGatewayV2::Api"]).filter { $0.1["Properties"]?["ProtocolType"]?.stringValue == "HTTP" }
        for (apiId, api) in httpAPIs {
            let cors = try api["Properties"]?["CorsConfiguration"].flatMap {
                try httpAPICORS($0, at: "Resources.\(apiId).Properties.CorsConfiguration")
            }
            for (logicalId, route) in try resources(of: ["AWS::ApiGatewayV2::Route"]) where try belongs(route, to: apiId, logicalId) {
                let path = "Resources.\(logicalId).Properties"
                guard let key = try route["Properties"]?["RouteKey"].flatMap({ try intrinsics.string($0, at: "\(path).RouteKey") }) else { continue }
                let function = try integratedFunction(route, at: path, functions: functions)
                let payload: Template.HTTPRoute.Payload = try integrationPayloadFormat(route, at: path) == "1.0" ? .httpAPIVersion1 : .httpAPI
                let parts = key.split(separator: " ", maxSplits: 1)
                let authorizer = try routeAuthorizer(route, at: path)
                let scopes = try strings(route["Properties"]?["AuthorizationScopes"], at: "\(path).AuthorizationScopes")
                routes.append(parts.count == 2
                    ? Template.HTTPRoute(method: String(parts[0]).uppercased(), path: String(parts[1]), function: function, payload: payload,
                                         authorizer: authorizer, authorizationScopes: scopes, cors: cors)
                    : Template.HTTPRoute(method: "ANY", path: key, function: function, payload: payload, authorizer: authorizer,
                                         authorizationScopes: scopes, cors: cors))
            }
        }
        return routes
    }
}
