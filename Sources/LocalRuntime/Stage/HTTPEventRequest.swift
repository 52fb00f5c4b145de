import Foundation
import Handlers

/// An HTTP request to a route, turned into the event the route's function gets: payload 2.0 for
/// HTTP APIs, the version 1.0 proxy event (`proxyEventVersion1`) for REST APIs and HTTP APIs set
/// to 1.0. The stage builds one per request; `local-runtime event` builds one from its arguments.
struct HTTPEventRequest {
    var route: Template.HTTPRoute
    var method: String
    var path: String
    var rawQuery: String
    /// Header fields in arrival order, names as sent.
    var headerFields: [(name: String, value: String)]
    var queryItems: [(name: String, value: String)]
    var pathParameters: [String: String]
    var body: [UInt8]
    var sourceIp: String
    var domainName: String
    var requestId: String
    var now: Date
    /// The template's account (`AWS::AccountId`), as in the ARNs its requests are authorized for.
    var accountId: String

    var routeKey: String { "\(route.method) \(route.path)" }

    /// Payload 2.0's headers: names lower-cased, repeated values joined with commas, cookies apart.
    var headers: [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in headerFields where name.lowercased() != "cookie" {
            headers[name.lowercased()] = headers[name.lowercased()].map { "\($0),\(value)" } ?? value
        }
        return headers
    }

    var cookies: [String] {
        headerFields.filter { $0.name.lowercased() == "cookie" }.flatMap { $0.value.split(separator: ";").map { $0.trimmed() } }
    }

    /// Query parameters, repeated values joined with commas (payload 2.0).
    var query: [String: String] {
        var query: [String: String] = [:]
        for (name, value) in queryItems { query[name] = query[name].map { "\($0),\(value)" } ?? value }
        return query
    }

    /// The event the route's function receives: payload 2.0 written from its envelope, the proxy
    /// event of payload 1.0 and REST APIs from its tree.
    var eventBytes: [UInt8] {
        guard route.payload == .httpAPI else { return proxyEventVersion1.jsonBytes }
        let text = String(validating: body, as: UTF8.self)
        let headers = headers
        return APIGatewayV2Request(
            routeKey: routeKey, rawPath: path, rawQueryString: rawQuery, cookies: cookies.isEmpty ? nil : cookies,
            headers: headers, queryStringParameters: query.isEmpty ? nil : query,
            pathParameters: pathParameters.isEmpty ? nil : pathParameters,
            requestContext: .init(accountId: accountId, apiId: "local", domainName: domainName, domainPrefix: "local",
                                  http: .init(method: method, path: path, protocol: "HTTP/1.1", sourceIp: sourceIp,
                                              userAgent: headers["user-agent"]),
                                  requestId: requestId, routeKey: routeKey, stage: "$default",
                                  time: AWSIdentifiers.requestTime(now), timeEpoch: AWSIdentifiers.epochMillis(now)),
            body: body.isEmpty ? nil : (text ?? Data(body).base64EncodedString()),
            isBase64Encoded: !body.isEmpty && text == nil).jsonBytes
    }
}
