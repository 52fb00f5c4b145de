import Foundation
import Handlers

/// Evaluates a WebSocket API's `RouteSelectionExpression` (`$request.body.action`, or any
/// `$request.body.` path) against a message, as API Gateway does: a body that is not a JSON object,
/// or lacks the key, selects no route.
struct RouteSelection: Sendable {
    let path: [String]?

    init(expression: String) {
        let prefix = "$request.body."
        path = expression.hasPrefix(prefix) ? expression.dropFirst(prefix.count).split(separator: ".").map(String.init) : nil
    }

    func routeKey(for body: [UInt8]) -> String? {
        routeKey(in: try? JSONValue(parsing: body))
    }

    /// The same for a text frame, parsed from the string's own UTF-8 without a copy.
    func routeKey(for body: String) -> String? {
        routeKey(in: try? JSONValue(parsing: body))
    }

    private func routeKey(in document: JSONValue?) -> String? {
        guard let path, var value = document else { return nil }
        for key in path {
            guard let next = value[key] else { return nil }
            value = next
        }
        return value.stringValue
    }
}
