/// `admin`: the operators' API on `ANY /api/admin/{proxy+}` (docs/openapi.yaml) — widget configurations,
/// usage analytics, security events, GDPR export and retention.
///
/// Every request needs a bearer JWT (HS256 under `ADMIN_JWT_SECRET`, `AdminToken`): 401 when it is
/// missing or does not verify, 403 when it verifies but its scope does not cover the request. A
/// secret that is unset or shorter than 32 bytes disables the API: every request is 401 and says so. Browsers may
/// call it from `ADMIN_ORIGIN` only; other origins get no CORS headers and refused preflights.
public struct AdminFunction: HTTPRouteFunction {
    public let dependencies: Dependencies

    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    /// A matched route: what it needs of the token and what it does.
    struct Route {
        var access: AdminToken.Access
        var run: () async throws -> HTTPRouteResponse
    }

    public func handle(_ request: HTTPRouteRequest, context: InvocationContext) async throws -> HTTPRouteResponse {
        let cors = corsHeaders(for: request)
        var response = try await respond(to: request, cors: cors)
        for field in cors ?? HeaderFields() where response.headers[field.name] == nil { response.headers.set(field.name, field.value) }
        response.format = request.format
        return SecurityHeaders.apply(to: response, for: request)
    }

    private func respond(to request: HTTPRouteRequest, cors: HeaderFields?) async throws -> HTTPRouteResponse {
        if request.method == "OPTIONS" {
            guard cors != nil else {
                return Self.failure(AdminError(.originNotAllowed, "Only ADMIN_ORIGIN may call the admin API from a browser."))
            }
            return HTTPRouteResponse(statusCode: 204)
        }
        let token: AdminToken
        switch AdminToken.verify(authorization: request.headers["authorization"], configuration: dependencies.configuration,
                                 now: dependencies.clock.now()) {
        case .failure(let rejection):
            InvocationTelemetry.count(.adminAuthenticationFailures)
            var response = Self.failure(AdminError(.unauthorized, rejection.description))
            response.headers.set("WWW-Authenticate", rejection == .missing ? #"Bearer realm="admin""# : #"Bearer realm="admin", error="invalid_token""#)
            return response
        case .success(let verified):
            token = verified
        }
        do {
            let route = try self.route(request)
            guard let access = token.access else {
                throw AdminError(.forbidden, "The token's scope grants neither admin nor admin:read.")
            }
            guard access >= route.access else {
                throw AdminError(.forbidden, "The token's scope is admin:read; \(request.method) needs the admin scope.")
            }
            return try await route.run()
        } catch let error as AdminError {
            return Self.failure(error)
        }
    }

    /// The route for the request's method and path (relative to `/api/admin`).
    private func route(_ request: HTTPRouteRequest) throws(AdminError) -> Route {
        let segments = Self.segments(of: request)
        let method = request.method
        let query = AdminQuery(parameters: request.queryParameters)
        let widgets = AdminWidgets(dependencies: dependencies)
        let reports = AdminReports(dependencies: dependencies)
        func allow(_ methods: [String], _ routes: [String: Route]) throws(AdminError) -> Route {
            guard let route = routes[method] else {
                throw AdminError(.methodNotAllowed, "/\(segments.joined(separator: "/")) answers \(methods.joined(separator: ", ")), not \(method).",
                                 allowedMethods: methods)
            }
            return route
        }
        switch segments {
        case ["widgets"]:
            return try allow(["GET", "POST"], [
                "GET": Route(access: .read) { try await widgets.list(query) },
                "POST": Route(access: .write) { try await widgets.create(Self.body(of: request, limit: dependencies.configuration.maxBodyBytes)) },
            ])
        case let path where path.count == 2 && path[0] == "widgets":
            let id = path[1]
            return try allow(["GET", "PATCH", "DELETE"], [
                "GET": Route(access: .read) { try await widgets.get(id) },
                "PATCH": Route(access: .write) {
                    try await widgets.update(id, with: Self.body(of: request, limit: dependencies.configuration.maxBodyBytes))
                },
                "DELETE": Route(access: .write) { try await widgets.deactivate(id) },
            ])
        case ["analytics", "usage"]:
            return try allow(["GET"], ["GET": Route(access: .read) { try await reports.usage(query) }])
        case ["security", "events"]:
            return try allow(["GET"], ["GET": Route(access: .read) { try await reports.securityEvents(query) }])
        case ["export"]:
            return try allow(["GET"], ["GET": Route(access: .read) { try await reports.export(query) }])
        case ["retention", "purge"]:
            return try allow(["POST"], ["POST": Route(access: .write) { try await reports.purge() }])
        default:
            throw AdminError(.notFound, "No admin route /api/admin/\(segments.joined(separator: "/")).")
        }
    }

    /// The path below `/api/admin`: API Gateway's `proxy` parameter, or the path itself (which on
    /// a named stage of an HTTP API begins with the stage).
    static func segments(of request: HTTPRouteRequest) -> [String] {
        let path: Substring
        if let proxy = request.pathParameters["proxy"] {
            path = Substring(proxy)
        } else if let range = request.path.firstRange(of: "/api/admin") {
            path = request.path[range.upperBound...]
        } else {
            path = Substring(request.path)
        }
        return path.split(separator: "/").map(String.init)
    }

    /// The JSON object in the body, or a 400/413 that says what is wrong with it.
    static func body(of request: HTTPRouteRequest, limit: Int) throws(AdminError) -> [String: JSONValue] {
        let bytes: [UInt8]
        do {
            bytes = try request.bodyBytes(limit: limit)
        } catch BodyError.tooLarge(let limit) {
            throw AdminError(.payloadTooLarge, "The request body must be at most \(limit) bytes.")
        } catch {
            throw .invalid("The request body is not valid base64.")
        }
        guard !bytes.isEmpty else { throw .invalid("A JSON object body is required.") }
        guard let value = try? JSONValue(parsing: bytes) else {
            throw .invalid("The request body is not valid JSON.")
        }
        guard case .object(let object) = value else { throw .invalid("The request body must be a JSON object.") }
        return object
    }

    /// CORS headers when the request comes from the configured admin origin; nil otherwise.
    private func corsHeaders(for request: HTTPRouteRequest) -> HeaderFields? {
        guard let admin = dependencies.configuration.adminOrigin, let raw = request.headers["origin"], Origin(raw) == admin else { return nil }
        return HeaderFields([
            ("Access-Control-Allow-Origin", admin.description),
            ("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS"),
            ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
            ("Access-Control-Max-Age", "600"),
            ("Vary", "Origin"),
        ])
    }

    /// A body of `success: true` and the members of `payload`, encoded by `JSONCoding.encoder`.
    static func json(_ status: Int, encoding payload: some Encodable) -> HTTPRouteResponse {
        HTTPRouteResponse(statusCode: status, headers: HeaderFields([("Content-Type", "application/json")]),
                     body: JSONCoding.string(encoding: AdminBody(payload: payload)))
    }

    /// The same body for a payload written by hand.
    static func json(_ status: Int, _ payload: some JSONValueEncodable) -> HTTPRouteResponse {
        var body: [String: JSONValue] = ["success": .bool(true)]
        if case .object(let members) = payload.jsonValue { body.merge(members) { _, payload in payload } }
        return HTTPRouteResponse(statusCode: status, headers: HeaderFields([("Content-Type", "application/json")]), body: JSONValue.object(body).jsonString)
    }

    /// A 200-style JSON response around a body already written.
    static func json(_ status: Int, body: String) -> HTTPRouteResponse {
        HTTPRouteResponse(statusCode: status, headers: HeaderFields([("Content-Type", "application/json")]), body: body)
    }

    static func failure(_ error: AdminError) -> HTTPRouteResponse {
        var headers = HeaderFields([("Content-Type", "application/json")])
        if !error.allowedMethods.isEmpty { headers.set("Allow", error.allowedMethods.joined(separator: ", ")) }
        return HTTPRouteResponse(statusCode: error.code.status, headers: headers,
                            body: JSONCoding.string(AdminFailure(error: error.code, message: error.message)))
    }
}
