import ArgumentParser
import Foundation
import Handlers

/// `local-runtime event ROUTE`: the event a route of the template hands its function, as the stage
/// would build it, for `invoke --event -` or a fixture (what `sam local generate-event` does for
/// AWS's event sources, for the template's own routes).
struct GenerateEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Prints the event a route of the template gives its function (pipe it into invoke --event -).",
        discussion: "ROUTE is a WebSocket route key ($connect, $disconnect, $default, sendmessage, …) or an HTTP route as METHOD /path (/items/42 fills {id} path parameters).")

    @Argument(help: "A WebSocket route key, or METHOD /path.")
    var route: String

    @Option(name: .long, help: "The message (WebSocket) or request body (HTTP).")
    var body: String?

    @Option(name: .long, help: "A header as Name:Value (repeatable).")
    var header: [String] = []

    @Option(name: .long, help: "A query-string parameter as name=value (repeatable).")
    var query: [String] = []

    @Option(name: .long, help: "The stage's host:port the event reports as requestContext.domainName.")
    var domainName = "127.0.0.1:3001"

    @OptionGroup var templateOptions: TemplateOptions

    func run() async throws {
        let template = try templateOptions.load()
        let headers = try header.map { field -> (name: String, value: String) in
            guard let colon = field.firstIndex(of: ":") else { throw ValidationError("--header takes Name:Value, got \(field)") }
            return (String(field[..<colon]), field[field.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let queryItems = try query.map { item -> (name: String, value: String) in
            guard let equals = item.firstIndex(of: "=") else { throw ValidationError("--query takes name=value, got \(item)") }
            return (String(item[..<equals]), String(item[item.index(after: equals)...]))
        }
        let now = Date()
        let parts = route.split(separator: " ", maxSplits: 1)
        if parts.count == 2, parts[1].hasPrefix("/") {
            let method = parts[0].uppercased()
            let path = String(parts[1])
            guard let (matched, pathParameters) = template.httpRoute(method: method, path: path) else {
                throw ValidationError("no HTTP route of the template serves \(method) \(path)")
            }
            let request = HTTPEventRequest(
                route: matched, method: method, path: path, rawQuery: query.joined(separator: "&"), headerFields: headers, queryItems: queryItems,
                pathParameters: pathParameters, body: Array((body ?? "").utf8), sourceIp: "127.0.0.1", domainName: domainName,
                requestId: AWSIdentifiers.requestId(), now: now, accountId: template.accountId)
            print(String(decoding: request.eventBytes, as: UTF8.self))
            return
        }
        guard template.webSocketRoute(route) ?? template.webSocketRoute("$default") != nil else {
            throw ValidationError("no WebSocket route \(route) (nor $default) in the template")
        }
        let type: WebSocketEvent.EventType = switch route {
        case "$connect": .connect
        case "$disconnect": .disconnect
        default: .message
        }
        let requestId = AWSIdentifiers.requestId()
        let context = Stage.webSocketContext(route: route, type: type, connectionId: AWSIdentifiers.connectionId(), requestId: requestId,
                                             at: now, connectedAt: now, sourceIp: "127.0.0.1", userAgent: nil, domainName: domainName,
                                             stage: template.stageName)
        var single: [String: String] = [:]
        var multi: [String: [String]] = [:]
        for (name, value) in headers {
            single[name] = value
            multi[name, default: []].append(value)
        }
        var singleQuery: [String: String] = [:]
        var multiQuery: [String: [String]] = [:]
        for (name, value) in queryItems {
            singleQuery[name] = value
            multiQuery[name, default: []].append(value)
        }
        let event = type == .message
            ? WebSocketEvent(requestContext: context, body: body ?? "", isBase64Encoded: false)
            : WebSocketEvent(requestContext: context, headers: single, multiValueHeaders: multi,
                             queryStringParameters: singleQuery.isEmpty ? nil : singleQuery,
                             multiValueQueryStringParameters: multiQuery.isEmpty ? nil : multiQuery)
        print(String(decoding: event.jsonBytes, as: UTF8.self))
    }
}
