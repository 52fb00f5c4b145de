import Handlers

extension Template {
    /// An authorizer of a route: a Lambda authorizer (`AWS::ApiGatewayV2::Authorizer` with
    /// `AuthorizerType: REQUEST`, or a Lambda authorizer of SAM's `Auth`), whose function decides, or
    /// a JWT authorizer (HTTP APIs' JWT, REST APIs' Cognito user pools), checked by the stage; and
    /// where its identity comes from.
    struct Authorizer: Sendable, Equatable {
        /// What a REST API's authorizer is sent: TOKEN, the one identity header's value (checked
        /// against `validationExpression` first, a mismatch being 401 without a call), or REQUEST,
        /// the method request's proxy event.
        enum RESTEvent: Sendable, Equatable {
            case token(validationExpression: String?)
            case request
        }

        /// One identity source: a request header or query-string parameter.
        enum IdentitySource: Sendable, Equatable {
            case header(String)
            case queryString(String)

            /// `route.request.header.Auth` (WebSocket), `$request.header.Authorization` (HTTP API),
            /// `$request.querystring.token`, `route.request.querystring.token`.
            init?(_ expression: String) {
                let lowered = expression.lowercased()
                for prefix in ["route.request.header.", "$request.header.", "method.request.header."] where lowered.hasPrefix(prefix) {
                    self = .header(String(expression.dropFirst(prefix.count)))
                    return
                }
                for prefix in ["route.request.querystring.", "$request.querystring.", "method.request.querystring."] where lowered.hasPrefix(prefix) {
                    self = .queryString(String(expression.dropFirst(prefix.count)))
                    return
                }
                return nil
            }
        }

        var logicalId: String
        var function: String
        var identitySources: [IdentitySource]
        /// HTTP APIs' `EnableSimpleResponses`: `{"isAuthorized": Bool, "context": {…}}` instead of an IAM policy.
        var simpleResponses: Bool
        /// `AuthorizerPayloadFormatVersion` of HTTP APIs ("2.0" or "1.0"); WebSocket authorizers take "1.0".
        var payloadFormatVersion: String
        /// A JWT authorizer's issuer and audiences; nil for a Lambda authorizer (whose `function` decides).
        var jwt: JWTAuthorizer? = nil
        /// A REST API's authorizer (SAM `Auth` on an `AWS::Serverless::Api`): IAM policies only, and
        /// REST's refusals (`AuthorizerRefusals`); nil for HTTP and WebSocket APIs' authorizers.
        var rest: RESTEvent? = nil
    }
}

extension TemplateReader {
    private typealias Failure = Intrinsics.Failure

    /// Every `AWS::ApiGatewayV2::Authorizer` of type REQUEST; a JWT or another type is refused
    /// with its path, since its routes could not be guarded as deployed.
    func authorizers(functions: [String: Template.Function]) throws -> [String: Template.Authorizer] {
        var authorizers: [String: Template.Authorizer] = [:]
        for (logicalId, resource) in resources.sorted(by: { $0.key < $1.key }) where resource["Type"]?.stringValue == "AWS::ApiGatewayV2::Authorizer" {
            let path = "Resources.\(logicalId).Properties"
            let properties = resource["Properties"]
            let type = try properties?["AuthorizerType"].flatMap { try intrinsics.string($0, at: "\(path).AuthorizerType") }
            guard type == "REQUEST" || type == "JWT" else {
                throw Failure(reason: "AuthorizerType \(type ?? "(none)") is not supported by local-runtime (REQUEST and JWT are)",
                              path: "\(path).AuthorizerType")
            }
            if type == "JWT" {
                let configuration = "\(path).JwtConfiguration"
                guard let issuerValue = properties?["JwtConfiguration"]?["Issuer"],
                      let issuer = try intrinsics.string(issuerValue, at: "\(configuration).Issuer") else {
                    throw Failure(reason: "a JWT authorizer needs JwtConfiguration.Issuer", path: configuration)
                }
                let audiences = try strings(properties?["JwtConfiguration"]?["Audience"], at: "\(configuration).Audience")
                let sources = try identitySources(properties, at: path)
                authorizers[logicalId] = Template.Authorizer(
                    logicalId: logicalId, function: "", identitySources: sources.isEmpty ? [.header("Authorization")] : sources,
                    simpleResponses: false, payloadFormatVersion: "2.0", jwt: JWTAuthorizer(issuer: issuer, audiences: audiences))
                continue
            }
            guard let uri = try properties?["AuthorizerUri"].flatMap({ try intrinsics.string($0, at: "\(path).AuthorizerUri") }),
                  let function = Self.function(invokedBy: uri, in: functions) else {
                throw Failure(reason: "the AuthorizerUri invokes no function of this template", path: "\(path).AuthorizerUri")
            }
            let sources = try identitySources(properties, at: path)
            let simple = try properties?["EnableSimpleResponses"].flatMap { try intrinsics.string($0, at: "\(path).EnableSimpleResponses") } == "true"
            let version = try properties?["AuthorizerPayloadFormatVersion"].flatMap {
                try intrinsics.string($0, at: "\(path).AuthorizerPayloadFormatVersion")
            } ?? "1.0"
            authorizers[logicalId] = Template.Authorizer(logicalId: logicalId, function: function, identitySources: sources,
                                                         simpleResponses: simple, payloadFormatVersion: version)
        }
        return authorizers
    }

    private func identitySources(_ properties: JSONValue?, at path: String) throws -> [Template.Authorizer.IdentitySource] {
        guard let value = properties?["IdentitySource"], let resolved = try intrinsics.resolve(value, at: "\(path).IdentitySource") else { return [] }
        let expressions = resolved.arrayValue?.compactMap(\.stringValue)
            ?? resolved.stringValue.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        return try expressions.map { try identitySource($0, at: "\(path).IdentitySource") }
    }

    /// One identity source expression (`$request.header.Authorization`, `route.request.querystring.token`, …).
    func identitySource(_ expression: String, at path: String) throws -> Template.Authorizer.IdentitySource {
        guard let source = Template.Authorizer.IdentitySource(expression) else {
            throw Failure(reason: "identity source \(expression) is not supported (headers and query strings are)", path: path)
        }
        return source
    }

    /// A value that is one string or a list of them (`Audience`, `Identity.Headers`), as a list; empty when absent.
    func strings(_ value: JSONValue?, at path: String) throws -> [String] {
        guard let value, let resolved = try intrinsics.resolve(value, at: path) else { return [] }
        return resolved.arrayValue?.compactMap(\.stringValue) ?? [resolved.stringValue].compactMap { $0 }
    }

    /// A route's `AuthorizerId` (a `Ref` to an authorizer), unless its `AuthorizationType` is NONE.
    func routeAuthorizer(_ route: JSONValue, at path: String) throws -> String? {
        let type = try route["Properties"]?["AuthorizationType"].flatMap { try intrinsics.string($0, at: "\(path).AuthorizationType") }
        guard type != nil, type != "NONE" else { return nil }
        guard type == "CUSTOM" || type == "JWT" else {
            throw Failure(reason: "AuthorizationType \(type ?? "") is not supported by local-runtime (CUSTOM and JWT are)", path: "\(path).AuthorizationType")
        }
        guard let value = route["Properties"]?["AuthorizerId"], let id = try intrinsics.string(value, at: "\(path).AuthorizerId"),
              resources[id]?["Type"]?.stringValue == "AWS::ApiGatewayV2::Authorizer" else {
            throw Failure(reason: "a CUSTOM or JWT route needs an AuthorizerId naming an AWS::ApiGatewayV2::Authorizer of this template", path: "\(path).AuthorizerId")
        }
        return id
    }
}
