import Foundation
import Handlers

/// Decides which function of the template an API Gateway event is for, the way API Gateway would:
/// WebSocket events by route key, HTTP events by method and path.
struct EventRouting {
    let template: Template

    struct Routed {
        var function: Template.Function
        var route: String
        /// When API Gateway received the event, for the replay clock.
        var time: Date?
        /// The WebSocket connection the event comes from, if it is a WebSocket event.
        var connectionId: String? = nil
        /// Whether the event is that connection's `$disconnect`.
        var disconnects = false
    }

    enum RoutingError: Error, CustomStringConvertible {
        case notAnEvent(String)
        case noRoute(String)
        var description: String {
            switch self {
            case .notAnEvent(let reason): "not an API Gateway event: \(reason)"
            case .noRoute(let route): "no function in the template serves \(route)"
            }
        }
    }

    func route(_ payload: [UInt8]) throws -> Routed {
        guard let event = try? JSONValue(parsing: payload), case .object = event else {
            throw RoutingError.notAnEvent("the file is not a JSON object")
        }
        let context = event["requestContext"]
        func time(_ value: JSONValue?) -> Date? {
            value?.intValue.map { Date(timeIntervalSince1970: TimeInterval($0) / 1000) }
        }
        if let eventType = context?["eventType"]?.stringValue, let routeKey = context?["routeKey"]?.stringValue {
            let key = ["CONNECT": "$connect", "DISCONNECT": "$disconnect"][eventType] ?? routeKey
            guard let route = template.webSocketRoute(key) ?? template.webSocketRoute("$default"),
                  let function = template.functions[route.function] else {
                throw RoutingError.noRoute("WebSocket route \(key)")
            }
            return Routed(function: function, route: key, time: time(context?["requestTimeEpoch"]),
                          connectionId: context?["connectionId"]?.stringValue, disconnects: eventType == "DISCONNECT")
        }
        let method: String
        let path: String
        let eventTime: Date?
        if event["version"]?.stringValue == "2.0" {
            guard let httpMethod = context?["http"]?["method"]?.stringValue else { throw RoutingError.notAnEvent("no requestContext.http.method") }
            method = httpMethod
            path = event["rawPath"]?.stringValue ?? context?["http"]?["path"]?.stringValue ?? "/"
            eventTime = time(context?["timeEpoch"])
        } else if let httpMethod = event["httpMethod"]?.stringValue {
            method = httpMethod
            path = event["path"]?.stringValue ?? "/"
            eventTime = time(context?["requestTimeEpoch"])
        } else {
            throw RoutingError.notAnEvent("neither a WebSocket event, an HTTP API 2.0 event nor a REST proxy event")
        }
        guard let (route, _) = template.httpRoute(method: method, path: path), let function = template.functions[route.function] else {
            throw RoutingError.noRoute("\(method.uppercased()) \(path)")
        }
        return Routed(function: function, route: "\(method.uppercased()) \(route.path)", time: eventTime)
    }
}
