import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import NIOCore

/// The HTTP side of the stage: the `@connections` management API, refused WebSocket handshakes,
/// and the template's HTTP API routes with payload format 2.0.
extension Stage {
    /// Answers one request. A body larger than the route allows is 413 wherever it is read: no
    /// input gets a 500 from the stage itself.
    func respond(to request: Request, context: StageRequestContext) async throws -> Response {
        do {
            return try await route(request, context: context)
        } catch is NIOTooManyBytesError {
            return Self.json(413, ["message": "Request Entity Too Large"])
        }
    }

    private func route(_ request: Request, context: StageRequestContext) async throws -> Response {
        let path = request.uri.path
        let connectionsPrefix = "/\(stageName)/@connections/"
        if path.hasPrefix(connectionsPrefix) {
            let rawId = String(path.dropFirst(connectionsPrefix.count))
            let connectionId = rawId.removingPercentEncoding ?? rawId
            let started = ContinuousClock.now
            let response: Response
            if let refusal = localAccessRefusal(request, awsError: true) {
                response = refusal
            } else {
                response = try await manage(request, connectionId: connectionId)
            }
            logConnectionsCall(method: request.method.rawValue, connectionId: connectionId, status: response.status.code, since: started)
            return response
        }
        if isStagePath(path), request.method == .get {
            return Self.json(426, ["message": "Upgrade Required"])
        }
        // Browsers ask every page's host for an icon; the stage has none, and says so without a 404.
        if path == "/favicon.ico", template.httpRoute(method: request.method.rawValue, path: path) == nil {
            return Response(status: .noContent)
        }
        if path == "/metrics", template.httpRoute(method: request.method.rawValue, path: path) == nil {
            return metricsPage(request)
        }
        if path == "/openapi.yaml", request.method == .get, template.httpRoute(method: "GET", path: path) == nil {
            return localAccessRefusal(request) ?? openAPIResponse()
        }
        if template.httpRoute(method: request.method.rawValue, path: path) == nil, let page = try await console(request) {
            return page
        }
        return try await httpAPI(request, context: context)
    }

    /// `GET /metrics`: Prometheus text format, under the same host and cross-site rules as the console.
    private func metricsPage(_ request: Request) -> Response {
        if let refusal = localAccessRefusal(request) { return refusal }
        guard request.method == .get || request.method == .head else {
            var refusal = Self.json(405, ["message": "Use GET on /metrics"])
            refusal.headers[.allow] = "GET, HEAD"
            return refusal
        }
        return Self.response(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                             body: Array(metrics.text().utf8))
    }

    // MARK: @connections

    private func manage(_ request: Request, connectionId: String) async throws -> Response {
        switch request.method {
        case .post:
            return try await posting.respond(to: request, connectionId: connectionId)
        case .get:
            guard let (connection, lastActiveAt) = registry.info(connectionId) else { return Self.gone() }
            var identity = ["sourceIp": JSONValue.string(connection.sourceIp)]
            if let userAgent = connection.userAgent { identity["userAgent"] = .string(userAgent) }
            let body: JSONValue = .object([
                "connectedAt": .string(ISO8601.stringWithMilliseconds(connection.connectedAt)),
                "lastActiveAt": .string(ISO8601.stringWithMilliseconds(lastActiveAt)),
                "identity": .object(identity),
            ])
            return Self.response(status: 200, headers: ["Content-Type": "application/json"], body: Array(JSONCoding.string(body).utf8))
        case .delete:
            guard await close(connectionId, cause: .deleted) else { return Self.gone() }
            return Response(status: .noContent)
        default:
            var refusal = Self.apiError(405, type: "MethodNotAllowedException", "Use GET, POST or DELETE on @connections")
            refusal.headers[.allow] = "GET, POST, DELETE"
            return refusal
        }
    }

    /// One log line per `@connections` call, in the invocation lines' columns (`@connections  POST
    /// <connectionId>  200  0.08 ms`), also shown in the dev console: a backend's posts, reads and
    /// deletes are as visible as the invocations.
    private func logConnectionsCall(method: String, connectionId: String, status: Int, since started: ContinuousClock.Instant) {
        let record = InvocationRecord(function: "@connections", route: method, id: connectionId, status: String(status),
                                      milliseconds: Milliseconds.since(started))
        StageLog.write(record.line)
        feed.publish(record)
    }

    private static func gone() -> Response { ConnectionPosting.gone() }

    private static func apiError(_ status: Int, type: String, _ message: String) -> Response {
        ConnectionPosting.apiError(status, type: type, message)
    }

    // MARK: HTTP API

    private func httpAPI(_ request: Request, context: StageRequestContext) async throws -> Response {
        let method = request.method.rawValue
        let path = request.uri.path
        let origin = request.headers[.origin]
        // An API with CORS settings answers preflights itself, whatever its routes.
        if method == "OPTIONS", let origin, request.headers[.accessControlRequestMethod] != nil, let cors = template.cors(forPath: path) {
            let headers = cors.preflightHeaders(origin: origin, requestedHeaders: request.headers[.accessControlRequestHeaders])
            return Self.response(status: 204, headers: headers ?? [:], body: [])
        }
        guard let (route, pathParameters) = template.httpRoute(method: method, path: path),
              let function = template.functions[route.function] else {
            return Self.json(404, ["message": "Not Found"])
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: settings.maxHTTPBodyBytes)
        } catch {
            return Self.json(413, ["message": "Request Entity Too Large"])
        }
        let incoming = HTTPEventRequest(
            route: route, method: method, path: path, rawQuery: request.uri.query ?? "",
            headerFields: request.headers.map { ($0.name.rawName, $0.value) },
            queryItems: request.uri.queryParameters.map { (String($0.key), String($0.value)) }, pathParameters: pathParameters,
            body: Array(buffer.readableBytesView), sourceIp: Self.ip(of: context.channel), domainName: domainName,
            requestId: AWSIdentifiers.requestId(), now: Date(), accountId: template.accountId)
        let (headers, query, routeKey, requestId) = (incoming.headers, incoming.query, incoming.routeKey, incoming.requestId)
        var payload = incoming.eventBytes
        if let authorizer = route.authorizer.flatMap({ template.authorizers[$0] }) {
            let event = JSONValue(event: payload)
            switch await authorize(authorizer, request: event, headers: headers, query: query, scopes: route.authorizationScopes,
                                   resourceArn: executeAPIArn(stage: route.payload.stage, route: "\(method)\(path)"), id: requestId) {
            case .refuse(let status, let body):
                return Self.response(status: status, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
            case .allow(let context, let principalId):
                // Payload 2.0 nests a Lambda authorizer's context under `lambda`; 1.0 flattens it beside `principalId`.
                var flat = context
                if let principalId { flat["principalId"] = .string(principalId) }
                let nested: JSONValue = authorizer.jwt == nil ? .object(["lambda": .object(context)]) : .object(context)
                payload = event.settingRequestContext("authorizer", route.payload == .httpAPI ? nested : .object(flat)).jsonBytes
            }
        }
        // API Gateway checks the key after the authorizer; with no usage plans here, any key will do.
        if route.apiKeyRequired, (headers["x-api-key"] ?? "").isEmpty {
            return Self.json(403, ["message": "Forbidden"])
        }
        let failure = Self.json(route.payload.failureStatus, ["message": route.payload.failureMessage])
        guard let response = await invoke(function, payload: payload, route: routeKey, id: requestId) else { return failure }
        // Payload 1.0 takes only the structured result: anything else is a malformed response.
        if route.payload != .httpAPI, response["statusCode"]?.intValue == nil { return failure }
        var answer = Self.proxyResponse(response)
        // An HTTP API puts its own CORS headers on a CORS request's response, in place of the function's.
        if let origin, let cors = route.cors {
            for (name, value) in cors.responseHeaders(origin: origin) {
                if let field = HTTPField.Name(name) { answer.headers[field] = value }
            }
        }
        return answer
    }

    /// Turns a payload 2.0 function result into the HTTP response API Gateway would send: a
    /// structured `{statusCode, headers, multiValueHeaders, cookies, body, isBase64Encoded}` or, as
    /// HTTP APIs allow, any other JSON value returned as a 200 JSON body.
    static func proxyResponse(_ value: JSONValue) -> Response {
        guard let status = value["statusCode"]?.intValue else {
            return response(status: 200, headers: ["Content-Type": "application/json"], body: Array(JSONCoding.string(value).utf8))
        }
        var fields = HTTPFields()
        if case .object(let headers)? = value["headers"] {
            for (name, header) in headers.sorted(by: { $0.key < $1.key }) {
                if let field = HTTPField.Name(name), let text = header.stringValue { fields.append(HTTPField(name: field, value: text)) }
            }
        }
        if case .object(let headers)? = value["multiValueHeaders"] {
            for (name, values) in headers.sorted(by: { $0.key < $1.key }) {
                guard let field = HTTPField.Name(name), fields[field] == nil, case .array(let list) = values else { continue }
                for item in list { if let text = item.stringValue { fields.append(HTTPField(name: field, value: text)) } }
            }
        }
        if case .array(let cookies)? = value["cookies"] {
            for cookie in cookies { if let text = cookie.stringValue { fields.append(HTTPField(name: .setCookie, value: text)) } }
        }
        let text = value["body"]?.stringValue ?? ""
        let body: [UInt8]
        if value["isBase64Encoded"] == .bool(true) {
            body = Data(base64Encoded: text).map(Array.init) ?? []
        } else {
            body = Array(text.utf8)
        }
        return Response(status: HTTPTypes.HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func response(status: Int, headers: [String: String], body: [UInt8]) -> Response {
        var fields = HTTPFields()
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: HTTPTypes.HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func json(_ status: Int, _ body: [String: String]) -> Response {
        response(status: status, headers: ["Content-Type": "application/json"], body: Array(JSONCoding.string(body).utf8))
    }
}
