import Handlers

/// An API's CORS settings, which API Gateway applies itself: HTTP APIs' `CorsConfiguration` (SAM's on
/// an `AWS::Serverless::HttpApi` or `Globals.HttpApi`, or an `AWS::ApiGatewayV2::Api`'s) and SAM's
/// `Cors` on REST APIs. API Gateway answers a preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`) for any path of the API without calling a function; an HTTP API
/// also adds the headers to its functions' responses, where a REST API leaves them to the function.
struct CORSConfiguration: Sendable, Equatable {
    /// `*` or exact origins (`https://app.example`).
    var allowOrigins: [String]
    var allowMethods: [String]
    var allowHeaders: [String]
    var exposeHeaders: [String] = []
    var allowCredentials = false
    var maxAge: Int? = nil
    /// HTTP APIs: the headers go on every response to a CORS request, not only on preflights.
    var decoratesResponses: Bool

    /// The value of `Access-Control-Allow-Origin` for a request from `origin`, or nil when the
    /// origin is not allowed (then no CORS header is sent and the browser refuses the response).
    func allowedOrigin(_ origin: String) -> String? {
        if allowOrigins.contains(origin) { return origin }
        guard allowOrigins.contains("*") else { return nil }
        // With credentials a browser refuses `*`: the origin is echoed, as API Gateway does.
        return allowCredentials ? origin : "*"
    }

    /// The headers of the answer to a preflight from `origin`, or nil when the origin is not allowed.
    func preflightHeaders(origin: String, requestedHeaders: String?) -> [String: String]? {
        guard let allowed = allowedOrigin(origin) else { return nil }
        var headers = ["Access-Control-Allow-Origin": allowed,
                       "Access-Control-Allow-Methods": allowMethods.joined(separator: ",")]
        if allowHeaders == ["*"], let requestedHeaders {
            headers["Access-Control-Allow-Headers"] = requestedHeaders
        } else if !allowHeaders.isEmpty {
            headers["Access-Control-Allow-Headers"] = allowHeaders.joined(separator: ",")
        }
        if allowCredentials { headers["Access-Control-Allow-Credentials"] = "true" }
        if let maxAge { headers["Access-Control-Max-Age"] = String(maxAge) }
        if allowed != "*" { headers["Vary"] = "Origin" }
        return headers
    }

    /// The headers an HTTP API adds to a function's response to a request from `origin`.
    func responseHeaders(origin: String) -> [String: String] {
        guard decoratesResponses, let allowed = allowedOrigin(origin) else { return [:] }
        var headers = ["Access-Control-Allow-Origin": allowed]
        if allowCredentials { headers["Access-Control-Allow-Credentials"] = "true" }
        if !exposeHeaders.isEmpty { headers["Access-Control-Expose-Headers"] = exposeHeaders.joined(separator: ",") }
        if allowed != "*" { headers["Vary"] = "Origin" }
        return headers
    }
}

extension TemplateReader {
    /// The CORS settings of the SAM API `api` (its own over its kind's `Globals`), nil when it has none.
    func samCORS(api: String, _ kind: SAMAPI) throws -> CORSConfiguration? {
        let key = kind == .http ? "CorsConfiguration" : "Cors"
        let own = resources[api]?["Properties"]?[key]
        let setting = own ?? samGlobals?[kind.globalsSection]?[key]
        let settingPath = own != nil ? "Resources.\(api).Properties.\(key)" : "Globals.\(kind.globalsSection).\(key)"
        guard let setting else { return nil }
        return try kind == .http ? httpAPICORS(setting, at: settingPath) : restAPICORS(setting, at: settingPath)
    }

    /// An HTTP API's `CorsConfiguration`: `true` (any origin, method and header) or its
    /// `AllowOrigins`, `AllowMethods`, `AllowHeaders`, `ExposeHeaders`, `AllowCredentials`, `MaxAge`.
    func httpAPICORS(_ setting: JSONValue, at path: String) throws -> CORSConfiguration? {
        guard case .object? = try intrinsics.resolve(setting, at: path) else {
            return try intrinsics.string(setting, at: path) == "true"
                ? CORSConfiguration(allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"], decoratesResponses: true) : nil
        }
        func list(_ key: String) throws -> [String] { try strings(setting[key], at: "\(path).\(key)") }
        let credentials = try setting["AllowCredentials"].flatMap { try intrinsics.string($0, at: "\(path).AllowCredentials") } == "true"
        let maxAge = try setting["MaxAge"].flatMap { try intrinsics.string($0, at: "\(path).MaxAge") }.flatMap { Int($0) }
        return CORSConfiguration(allowOrigins: try list("AllowOrigins"), allowMethods: try list("AllowMethods"), allowHeaders: try list("AllowHeaders"),
                                 exposeHeaders: try list("ExposeHeaders"), allowCredentials: credentials, maxAge: maxAge, decoratesResponses: true)
    }

    /// SAM's `Cors` on a REST API: an origin, or `AllowOrigin`, `AllowMethods`, `AllowHeaders`,
    /// `MaxAge`, `AllowCredentials`, each written as API Gateway's header mapping wants it, in single
    /// quotes (`"'*'"`, `"'GET,POST'"`). Methods default to every method.
    private func restAPICORS(_ setting: JSONValue, at path: String) throws -> CORSConfiguration? {
        func value(_ key: String) throws -> String? {
            try setting[key].flatMap { try intrinsics.string($0, at: "\(path).\(key)") }.map(Self.unquoted)
        }
        func list(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let origin = try intrinsics.resolve(setting, at: path)?.stringValue {
            return CORSConfiguration(allowOrigins: [Self.unquoted(origin)], allowMethods: ["*"], allowHeaders: [], decoratesResponses: false)
        }
        guard let origin = try value("AllowOrigin") else {
            throw Intrinsics.Failure(reason: "Cors needs an AllowOrigin", path: path)
        }
        let methods = list(try value("AllowMethods"))
        return CORSConfiguration(allowOrigins: [origin], allowMethods: methods.isEmpty ? ["*"] : methods, allowHeaders: list(try value("AllowHeaders")),
                                 allowCredentials: try value("AllowCredentials") == "true", maxAge: try value("MaxAge").flatMap { Int($0) },
                                 decoratesResponses: false)
    }

    /// `'value'` → `value`: SAM's REST `Cors` values are header mappings, quoted.
    private static func unquoted(_ text: String) -> String {
        text.count >= 2 && text.hasPrefix("'") && text.hasSuffix("'") ? String(text.dropFirst().dropLast()) : text
    }
}
