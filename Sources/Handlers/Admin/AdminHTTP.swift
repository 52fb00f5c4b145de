/// The admin API's error codes and their statuses. Distinct from the public chat codes: an
/// operator's tool needs to tell "log in again" (401) from "you may not" (403).
public enum AdminErrorCode: String, Sendable, Codable {
    case invalidRequest = "invalid_request"
    case unauthorized
    case forbidden
    case originNotAllowed = "origin_not_allowed"
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case widgetExists = "widget_exists"
    case payloadTooLarge = "payload_too_large"

    public var status: Int {
        switch self {
        case .invalidRequest: 400
        case .unauthorized: 401
        case .forbidden, .originNotAllowed: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .widgetExists: 409
        case .payloadTooLarge: 413
        }
    }
}

/// A request the admin API turned away, with words precise enough to fix the request by.
public struct AdminError: Error, Sendable, Equatable {
    public var code: AdminErrorCode
    public var message: String
    /// For `methodNotAllowed`: the methods the path answers, sent as `Allow` (RFC 9110 §15.5.6).
    public var allowedMethods: [String] = []

    public init(_ code: AdminErrorCode, _ message: String, allowedMethods: [String] = []) {
        self.code = code
        self.message = message
        self.allowedMethods = allowedMethods
    }

    static func invalid(_ message: String) -> AdminError { AdminError(.invalidRequest, message) }
}

/// Reads and checks query parameters, each failure naming the parameter and what it accepts.
struct AdminQuery {
    let parameters: [String: String]

    func string(_ name: String) -> String? {
        parameters[name].map { $0.trimmed() }.flatMap { $0.isEmpty ? nil : $0 }
    }

    func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(AdminError) -> Int {
        guard let raw = string(name) else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw .invalid("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound); got \(raw.prefix(40))")
        }
        return value
    }

    func widgetId(_ name: String = "widget_id") throws(AdminError) -> String? {
        guard let raw = string(name) else { return nil }
        guard Identifiers.isValidWidgetId(raw) else { throw .invalid("\(name) must match ^widget_[a-z0-9_]{12,64}$; got \(raw.prefix(80))") }
        return raw
    }
}

/// The JSON bodies of admin responses: `success` first, as in the chat API.
struct AdminBody<Payload: Encodable>: Encodable {
    var payload: Payload

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: SuccessKey.self)
        try container.encode(true, forKey: .success)
        try payload.encode(to: encoder)
    }

    enum SuccessKey: String, CodingKey { case success }
}

/// The body of every refused admin request.
struct AdminFailure: JSONValueEncodable {
    var error: AdminErrorCode
    var message: String

    var jsonValue: JSONValue {
        .object(["success": .bool(false), "error": .string(error.rawValue), "message": .string(message)])
    }
}
