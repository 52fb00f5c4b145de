import Handlers

/// SAM's `Auth` on its APIs: the authorizers an `AWS::Serverless::HttpApi` or `AWS::Serverless::Api`
/// (or, for events that name no API, SAM's implicit API of that kind through `Globals.HttpApi` or
/// `Globals.Api`) declares under `Auth.Authorizers`, its `DefaultAuthorizer`, and each event's
/// `Auth.Authorizer` (`NONE` for none), read into the same authorizers as
/// `AWS::ApiGatewayV2::Authorizer` resources. An authorizer is keyed `Api.Name`, since two APIs may
/// each declare one of the same name. Of REST APIs' other `Auth` settings (API keys, resource
/// policies, usage plans, invoke roles) none is emulated.
extension TemplateReader {
    private typealias Failure = Intrinsics.Failure

    /// The two kinds of API SAM's events create, and where each keeps its `Auth`.
    enum SAMAPI: CaseIterable {
        /// `HttpApi` events, `AWS::Serverless::HttpApi`.
        case http
        /// `Api` events, `AWS::Serverless::Api` (REST).
        case rest

        var resourceType: String { self == .http ? "AWS::Serverless::HttpApi" : "AWS::Serverless::Api" }
        /// The API SAM creates for events that name none.
        var implicitAPI: String { self == .http ? "ServerlessHttpApi" : "ServerlessRestApi" }
        /// The event property naming the API.
        var apiIdProperty: String { self == .http ? "ApiId" : "RestApiId" }
        /// The section of `Globals` the API's defaults are in.
        var globalsSection: String { self == .http ? "HttpApi" : "Api" }
    }

    /// The API an `HttpApi` or `Api` event belongs to: the logical id its `ApiId`/`RestApiId` names,
    /// else SAM's implicit API of that kind.
    func samAPI(of properties: JSONValue?, _ kind: SAMAPI, at path: String) throws -> String {
        try properties?[kind.apiIdProperty].flatMap { try intrinsics.string($0, at: "\(path).\(kind.apiIdProperty)") } ?? kind.implicitAPI
    }

    /// The SAM APIs of a kind in the template, and its implicit one.
    private func samAPIs(_ kind: SAMAPI) throws -> [String] {
        try resources(of: [kind.resourceType]).map(\.0) + [kind.implicitAPI]
    }

    /// How routes and `Template.authorizers` name the authorizer `name` of the API `api`.
    static func authorizerKey(api: String, name: String) -> String {
        "\(api).\(name)"
    }

    /// The `Auth` of the SAM API `api`: its own properties' over its kind's `Globals`.
    private func auth(of api: String, _ kind: SAMAPI) -> (auth: JSONValue?, path: String) {
        let own = resources[api]?["Properties"]?["Auth"]
        let global = samGlobals?[kind.globalsSection]?["Auth"]
        let path = own != nil ? "Resources.\(api).Properties.Auth" : "Globals.\(kind.globalsSection).Auth"
        if let own, let global { return (Self.merge(global, own), path) }
        return (own ?? global, path)
    }

    /// Every authorizer declared in a SAM API's `Auth.Authorizers`, of both kinds of API.
    func samAuthorizers(functions: [String: Template.Function]) throws -> [String: Template.Authorizer] {
        var authorizers: [String: Template.Authorizer] = [:]
        for kind in SAMAPI.allCases {
            for api in try samAPIs(kind) {
                let (auth, authPath) = auth(of: api, kind)
                guard case .object(let declared)? = auth?["Authorizers"] else { continue }
                for (name, definition) in declared.sorted(by: { $0.key < $1.key }) {
                    let path = "\(authPath).Authorizers.\(name)"
                    let key = Self.authorizerKey(api: api, name: name)
                    authorizers[key] = try kind == .http
                        ? httpAPIAuthorizer(definition, key: key, at: path, functions: functions)
                        : restAPIAuthorizer(definition, key: key, at: path, functions: functions)
                }
            }
        }
        return authorizers
    }

    /// An HTTP API's authorizer: a `JwtConfiguration` (`issuer`, `audience`) or a Lambda
    /// `FunctionArn` with its `Identity`, `AuthorizerPayloadFormatVersion` and `EnableSimpleResponses`.
    private func httpAPIAuthorizer(_ definition: JSONValue, key: String, at path: String,
                                   functions: [String: Template.Function]) throws -> Template.Authorizer {
        if let jwt = definition["JwtConfiguration"] {
            guard let issuerValue = jwt["issuer"] ?? jwt["Issuer"], let issuer = try intrinsics.string(issuerValue, at: "\(path).JwtConfiguration.issuer") else {
                throw Failure(reason: "a JWT authorizer needs JwtConfiguration.issuer", path: "\(path).JwtConfiguration")
            }
            let audiences = try strings(jwt["audience"] ?? jwt["Audience"], at: "\(path).JwtConfiguration.audience")
            let source = try definition["IdentitySource"].flatMap { try intrinsics.string($0, at: "\(path).IdentitySource") }
            let sources = try source.map { try [identitySource($0, at: "\(path).IdentitySource")] } ?? [.header("Authorization")]
            return Template.Authorizer(logicalId: key, function: "", identitySources: sources, simpleResponses: false,
                                       payloadFormatVersion: "2.0", jwt: JWTAuthorizer(issuer: issuer, audiences: audiences))
        }
        let function = try authorizerFunction(definition, at: path, functions: functions, needs: "a JwtConfiguration or a FunctionArn")
        let identity = definition["Identity"]
        var sources = try requestIdentitySources(identity, at: path)
        if identity == nil { sources = [.header("Authorization")] }
        let version = try definition["AuthorizerPayloadFormatVersion"].flatMap {
            try intrinsics.string($0, at: "\(path).AuthorizerPayloadFormatVersion")
        } ?? "2.0"
        let simple = try definition["EnableSimpleResponses"].flatMap { try intrinsics.string($0, at: "\(path).EnableSimpleResponses") } == "true"
        return Template.Authorizer(logicalId: key, function: function, identitySources: sources,
                                   simpleResponses: simple, payloadFormatVersion: version.hasPrefix("1") ? "1.0" : "2.0")
    }

    /// A REST API's authorizer: a Cognito `UserPoolArn` (checked as a JWT from the pool, with
    /// `serve --jwks`), or a Lambda `FunctionArn` of `FunctionPayloadType` TOKEN (the default: one
    /// `Identity.Header`, Authorization unless named, and its `ValidationExpression`) or REQUEST
    /// (`Identity.Headers` and `QueryStrings`; stage variables and context sources are not checked).
    private func restAPIAuthorizer(_ definition: JSONValue, key: String, at path: String,
                                   functions: [String: Template.Function]) throws -> Template.Authorizer {
        let identity = definition["Identity"]
        let header = try identity?["Header"].flatMap { try intrinsics.string($0, at: "\(path).Identity.Header") } ?? "Authorization"
        if let pools = definition["UserPoolArn"] {
            let issuers = try strings(pools, at: "\(path).UserPoolArn").map(Self.cognitoIssuer(ofPool:))
            guard let issuer = issuers.first else {
                throw Failure(reason: "a Cognito authorizer needs a UserPoolArn", path: "\(path).UserPoolArn")
            }
            let jwt = JWTAuthorizer(issuer: issuer, audiences: [], otherIssuers: Array(issuers.dropFirst()), requiresExpiry: true)
            return Template.Authorizer(logicalId: key, function: "", identitySources: [.header(header)], simpleResponses: false,
                                       payloadFormatVersion: "1.0", jwt: jwt, rest: .request)
        }
        let function = try authorizerFunction(definition, at: path, functions: functions, needs: "a UserPoolArn or a FunctionArn")
        let type = try definition["FunctionPayloadType"].flatMap { try intrinsics.string($0, at: "\(path).FunctionPayloadType") } ?? "TOKEN"
        switch type {
        case "TOKEN":
            let expression = try identity?["ValidationExpression"].flatMap { try intrinsics.string($0, at: "\(path).Identity.ValidationExpression") }
            if let expression, (try? Regex(expression)) == nil {
                throw Failure(reason: "not a regular expression local-runtime can read", path: "\(path).Identity.ValidationExpression")
            }
            return Template.Authorizer(logicalId: key, function: function, identitySources: [.header(header)], simpleResponses: false,
                                       payloadFormatVersion: "1.0", rest: .token(validationExpression: expression))
        case "REQUEST":
            return Template.Authorizer(logicalId: key, function: function, identitySources: try requestIdentitySources(identity, at: path),
                                       simpleResponses: false, payloadFormatVersion: "1.0", rest: .request)
        default:
            throw Failure(reason: "FunctionPayloadType must be TOKEN or REQUEST", path: "\(path).FunctionPayloadType")
        }
    }

    /// The function a Lambda authorizer's `FunctionArn` names in this template.
    private func authorizerFunction(_ definition: JSONValue, at path: String, functions: [String: Template.Function],
                                    needs: String) throws -> String {
        guard let arnValue = definition["FunctionArn"] else {
            throw Failure(reason: "an authorizer in Auth.Authorizers needs \(needs)", path: path)
        }
        guard let arn = try intrinsics.string(arnValue, at: "\(path).FunctionArn"), let function = Self.function(invokedBy: arn, in: functions) else {
            throw Failure(reason: "the FunctionArn names no function of this template", path: "\(path).FunctionArn")
        }
        return function
    }

    /// A REQUEST authorizer's `Identity.Headers` and `Identity.QueryStrings`, in that order.
    private func requestIdentitySources(_ identity: JSONValue?, at path: String) throws -> [Template.Authorizer.IdentitySource] {
        try strings(identity?["Headers"], at: "\(path).Identity.Headers").map(Template.Authorizer.IdentitySource.header)
            + strings(identity?["QueryStrings"], at: "\(path).Identity.QueryStrings").map(Template.Authorizer.IdentitySource.queryString)
    }

    /// The `iss` of a Cognito user pool's tokens: `https://cognito-idp.{region}.amazonaws.com/{pool id}`.
    /// A pool declared in the template (`!GetAtt Pool.Arn`) is known locally by its logical id.
    static func cognitoIssuer(ofPool arn: String) -> String {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return arn }
        let pool = parts[5].split(separator: "/").last.map(String.init) ?? String(parts[5])
        return "https://cognito-idp.\(parts[3]).amazonaws.com/\(pool)"
    }

    /// The scopes an `HttpApi` or `Api` event of the API `api` must have in its token: its own
    /// `Auth.AuthorizationScopes`, else those of the authorizer `authorizer` guarding it.
    func samAuthorizationScopes(_ properties: JSONValue?, api: String, authorizer: String?, _ kind: SAMAPI, at path: String) throws -> [String] {
        if let own = properties?["Auth"]?["AuthorizationScopes"] {
            return try strings(own, at: "\(path).Auth.AuthorizationScopes")
        }
        guard let authorizer else { return [] }
        let (auth, authPath) = auth(of: api, kind)
        return try strings(auth?["Authorizers"]?[authorizer]?["AuthorizationScopes"], at: "\(authPath).Authorizers.\(authorizer).AuthorizationScopes")
    }

    /// Whether an `Api` event of the REST API `api` needs an API key: its own `Auth.ApiKeyRequired`,
    /// else its API's.
    func samAPIKeyRequired(_ properties: JSONValue?, api: String, at path: String) throws -> Bool {
        if let own = properties?["Auth"]?["ApiKeyRequired"] {
            return try intrinsics.string(own, at: "\(path).Auth.ApiKeyRequired") == "true"
        }
        let (auth, authPath) = auth(of: api, .rest)
        return try auth?["ApiKeyRequired"].flatMap { try intrinsics.string($0, at: "\(authPath).ApiKeyRequired") } == "true"
    }

    /// The `Auth` settings of SAM's APIs and events that the stage does not enforce, each as the
    /// path of the setting: the stage says so when it starts, so that nobody takes a route that
    /// is open locally for one that AWS would guard the same way.
    func samAuthNotEmulated() throws -> [String] {
        var paths: [String] = []
        let unenforced = ["ResourcePolicy", "UsagePlan"]
        for kind in SAMAPI.allCases {
            for api in try samAPIs(kind) {
                let (auth, authPath) = auth(of: api, kind)
                paths += unenforced.filter { auth?[$0] != nil }.map { "\(authPath).\($0)" }
            }
        }
        for (logicalId, resource) in try resources(of: ["AWS::Serverless::Function"]) {
            guard case .object(let events)? = resource["Properties"]?["Events"] else { continue }
            for (eventId, event) in events.sorted(by: { $0.key < $1.key }) {
                let auth = event["Properties"]?["Auth"]
                let path = "Resources.\(logicalId).Properties.Events.\(eventId).Properties.Auth"
                paths += unenforced.filter { auth?[$0] != nil }.map { "\(path).\($0)" }
            }
        }
        return paths
    }

    /// The name of the authorizer guarding an `HttpApi` or `Api` event of the API `api`: its own
    /// `Auth.Authorizer` (`NONE`: none), else its API's `DefaultAuthorizer`; nil when neither names one.
    func samRouteAuthorizer(_ properties: JSONValue?, api: String, _ kind: SAMAPI, at path: String) throws -> String? {
        let (auth, authPath) = auth(of: api, kind)
        let named = try properties?["Auth"]?["Authorizer"].flatMap { try intrinsics.string($0, at: "\(path).Auth.Authorizer") }
        guard named != "NONE",
              let name = try named ?? auth?["DefaultAuthorizer"].flatMap({ try intrinsics.string($0, at: "\(authPath).DefaultAuthorizer") }) else {
            return nil
        }
        guard name != "AWS_IAM" else {
            throw Failure(reason: "AWS_IAM authorization is not emulated by local-runtime (Lambda, JWT and Cognito authorizers are)",
                          path: named != nil ? "\(path).Auth.Authorizer" : "\(authPath).DefaultAuthorizer")
        }
        guard auth?["Authorizers"]?[name] != nil else {
            throw Failure(reason: "\(name) is not one of the API's Auth.Authorizers", path: named != nil ? "\(path).Auth.Authorizer" : "\(authPath).DefaultAuthorizer")
        }
        return name
    }
}
