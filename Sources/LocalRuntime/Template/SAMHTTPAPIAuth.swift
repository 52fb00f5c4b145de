import Handlers

/// SAM's `Auth` on HTTP APIs: the authorizers an `AWS::Serverless::HttpApi` (or, for `HttpApi`
/// events without an `ApiId`, SAM's implicit API through `Globals.HttpApi`) declares under
/// `Auth.Authorizers`, its `DefaultAuthorizer`, and each event's `Auth.Authorizer` (`NONE` for none),
/// read into the same authorizers as `AWS::ApiGatewayV2::Authorizer` resources. An authorizer is
/// keyed `Api.Name`, since two APIs may each declare one of the same name.
extension TemplateReader {
    private typealias Failure = Intrinsics.Failure

    /// The API SAM creates for `HttpApi` events that name no `ApiId`.
    static let implicitHTTPAPI = "ServerlessHttpApi"

    /// The `Auth` of the SAM HTTP API `api`: its own properties' over `Globals.HttpApi`'s.
    private func httpAPIAuth(_ api: String) -> (auth: JSONValue?, path: String) {
        let own = resources[api]?["Properties"]?["Auth"]
        let global = httpAPIGlobals?["Auth"]
        let path = own != nil ? "Resources.\(api).Properties.Auth" : "Globals.HttpApi.Auth"
        if let own, let global { return (Self.merge(global, own), path) }
        return (own ?? global, path)
    }

    /// Every authorizer declared in a SAM HTTP API's `Auth.Authorizers`: a `JwtConfiguration`
    /// (`issuer`, `audience`) or a Lambda `FunctionArn` with its `Identity`,
    /// `AuthorizerPayloadFormatVersion` and `EnableSimpleResponses`.
    func samHTTPAPIAuthorizers(functions: [String: Template.Function]) throws -> [String: Template.Authorizer] {
        var authorizers: [String: Template.Authorizer] = [:]
        let apis = try resources(of: ["AWS::Serverless::HttpApi"]).map(\.0) + [Self.implicitHTTPAPI]
        for api in apis {
            let (auth, authPath) = httpAPIAuth(api)
            guard case .object(let declared)? = auth?["Authorizers"] else { continue }
            for (name, definition) in declared.sorted(by: { $0.key < $1.key }) {
                let path = "\(authPath).Authorizers.\(name)"
                let key = "\(api).\(name)"
                if let jwt = definition["JwtConfiguration"] {
                    guard let issuerValue = jwt["issuer"] ?? jwt["Issuer"], let issuer = try intrinsics.string(issuerValue, at: "\(path).JwtConfiguration.issuer") else {
                        throw Failure(reason: "a JWT authorizer needs JwtConfiguration.issuer", path: "\(path).JwtConfiguration")
                    }
                    let audiences = try strings(jwt["audience"] ?? jwt["Audience"], at: "\(path).JwtConfiguration.audience")
                    let source = try definition["IdentitySource"].flatMap { try intrinsics.string($0, at: "\(path).IdentitySource") }
                    let sources = try source.map { try [identitySource($0, at: "\(path).IdentitySource")] } ?? [.header("Authorization")]
                    authorizers[key] = Template.Authorizer(logicalId: key, function: "", identitySources: sources, simpleResponses: false,
                                                           payloadFormatVersion: "2.0", jwt: JWTAuthorizer(issuer: issuer, audiences: audiences))
                } else if let arnValue = definition["FunctionArn"] {
                    guard let arn = try intrinsics.string(arnValue, at: "\(path).FunctionArn"), let function = Self.function(invokedBy: arn, in: functions) else {
                        throw Failure(reason: "the FunctionArn names no function of this template", path: "\(path).FunctionArn")
                    }
                    let identity = definition["Identity"]
                    var sources = try strings(identity?["Headers"], at: "\(path).Identity.Headers").map(Template.Authorizer.IdentitySource.header)
                        + strings(identity?["QueryStrings"], at: "\(path).Identity.QueryStrings").map(Template.Authorizer.IdentitySource.queryString)
                    if identity == nil { sources = [.header("Authorization")] }
                    let version = try definition["AuthorizerPayloadFormatVersion"].flatMap {
                        try intrinsics.string($0, at: "\(path).AuthorizerPayloadFormatVersion")
                    } ?? "2.0"
                    let simple = try definition["EnableSimpleResponses"].flatMap { try intrinsics.string($0, at: "\(path).EnableSimpleResponses") } == "true"
                    authorizers[key] = Template.Authorizer(logicalId: key, function: function, identitySources: sources,
                                                           simpleResponses: simple, payloadFormatVersion: version.hasPrefix("1") ? "1.0" : "2.0")
                } else {
                    throw Failure(reason: "an authorizer in Auth.Authorizers needs a JwtConfiguration or a FunctionArn", path: path)
                }
            }
        }
        return authorizers
    }

    /// The authorizer guarding an `HttpApi` event: its own `Auth.Authorizer` (`NONE`: none), else
    /// its API's `DefaultAuthorizer`; nil when neither names one.
    func samHTTPAPIRouteAuthorizer(_ properties: JSONValue?, at path: String) throws -> String? {
        let api = try properties?["ApiId"].flatMap { try intrinsics.string($0, at: "\(path).ApiId") } ?? Self.implicitHTTPAPI
        let (auth, authPath) = httpAPIAuth(api)
        let named = try properties?["Auth"]?["Authorizer"].flatMap { try intrinsics.string($0, at: "\(path).Auth.Authorizer") }
        guard named != "NONE",
              let name = try named ?? auth?["DefaultAuthorizer"].flatMap({ try intrinsics.string($0, at: "\(authPath).DefaultAuthorizer") }) else {
            return nil
        }
        guard auth?["Authorizers"]?[name] != nil else {
            throw Failure(reason: "\(name) is not one of the API's Auth.Authorizers", path: named != nil ? "\(path).Auth.Authorizer" : "\(authPath).DefaultAuthorizer")
        }
        return "\(api).\(name)"
    }
}
