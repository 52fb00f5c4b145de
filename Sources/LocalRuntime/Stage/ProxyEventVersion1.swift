import Foundation
import Handlers

extension Template.HTTPRoute.Payload {
    /// What API Gateway answers when the integration fails or answers malformed: REST's 502, HTTP APIs' 500.
    var failureStatus: Int {
        if case .rest = self { return 502 }
        return 500
    }

    var failureMessage: String {
        if case .rest = self { return "Internal server error" }
        return "Internal Server Error"
    }
}

extension JSONValue {
    /// The tree of an event the stage wrote itself (so it is JSON), for the readers that need one:
    /// authorizers get the event of the route they guard, and add their context to it.
    init(event bytes: [UInt8]) {
        self = (try? JSONValue(parsing: bytes)) ?? .object([:])
    }

    /// This event with `requestContext[key]` set (the object created if missing).
    func settingRequestContext(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var event) = self else { return self }
        guard case .object(var context) = event["requestContext"] ?? .object([:]) else { return self }
        context[key] = value
        event["requestContext"] = .object(context)
        return .object(event)
    }
}

extension HTTPEventRequest {
    /// The proxy event of REST APIs (`Api` events) and of HTTP API routes with payload format 1.0:
    /// `httpMethod`, `path`, `resource`, single- and multi-value headers and query strings, and a
    /// `requestContext` with `resourcePath`, `identity.sourceIp` and the stage.
    var proxyEventVersion1: JSONValue {
        let headers = headerFields
        let query = queryItems
        var single: [String: JSONValue] = [:]
        var multi: [String: [JSONValue]] = [:]
        for (name, value) in headers {
            single[name] = .string(value)
            multi[name, default: []].append(.string(value))
        }
        var singleQuery: [String: JSONValue] = [:]
        var multiQuery: [String: [JSONValue]] = [:]
        for (name, value) in query {
            singleQuery[name] = .string(value)
            multiQuery[name, default: []].append(.string(value))
        }
        let stage: String
        var event: [String: JSONValue] = [:]
        switch route.payload {
        case .rest(let name): stage = name
        case .httpAPI, .httpAPIVersion1:
            stage = "$default"
            event["version"] = .string("1.0")
        }
        let resource = route.isDefault ? "$default" : route.path
        let text = String(validating: body, as: UTF8.self)
        event["resource"] = .string(resource)
        event["path"] = .string(path)
        event["httpMethod"] = .string(method)
        event["headers"] = .object(single)
        event["multiValueHeaders"] = .object(multi.mapValues(JSONValue.array))
        event["queryStringParameters"] = singleQuery.isEmpty ? .null : .object(singleQuery)
        event["multiValueQueryStringParameters"] = multiQuery.isEmpty ? .null : .object(multiQuery.mapValues(JSONValue.array))
        event["pathParameters"] = pathParameters.isEmpty ? .null : .object(pathParameters.mapValues(JSONValue.string))
        event["stageVariables"] = .null
        event["body"] = body.isEmpty ? .null : .string(text ?? Data(body).base64EncodedString())
        event["isBase64Encoded"] = .bool(!body.isEmpty && text == nil)
        event["requestContext"] = .object([
            "accountId": .string(accountId), "apiId": .string("local"), "domainName": .string(domainName),
            "domainPrefix": .string("local"), "extendedRequestId": .string(requestId), "httpMethod": .string(method),
            "identity": .object(["sourceIp": .string(sourceIp), "userAgent": single.first { $0.key.lowercased() == "user-agent" }?.value ?? .null]),
            "path": .string(stage == "$default" ? path : "/\(stage)\(path)"), "protocol": .string("HTTP/1.1"),
            "requestId": .string(requestId), "requestTime": .string(AWSIdentifiers.requestTime(now)),
            "requestTimeEpoch": .number(Double(AWSIdentifiers.epochMillis(now))), "resourceId": .string("local"),
            "resourcePath": .string(resource), "stage": .string(stage),
        ])
        return .object(event)
    }
}
