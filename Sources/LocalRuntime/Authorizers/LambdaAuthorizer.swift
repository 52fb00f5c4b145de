import Handlers

/// What a Lambda authorizer decided, as API Gateway turns it into an answer: the request goes on
/// with the authorizer's context, or is refused with API Gateway's status and body.
enum AuthorizerDecision: Sendable, Equatable {
    /// Allowed: the `context` object the authorizer returned, and its `principalId` if any.
    case allow(context: [String: JSONValue], principalId: String?)
    case refuse(status: Int, body: String)

    /// A required identity source is missing or empty, or a token is not valid (every kind of API).
    static let unauthorized = AuthorizerDecision.refuse(status: 401, body: #"{"message":"Unauthorized"}"#)
    /// HTTP and WebSocket APIs: the authorizer denied (a Deny policy, no Allow for the resource, or `isAuthorized: false`).
    static let forbidden = AuthorizerDecision.refuse(status: 403, body: #"{"message":"Forbidden"}"#)
    /// HTTP and WebSocket APIs: the authorizer failed (an error, a timeout, or a response that is neither a policy nor a simple response).
    static let failed = AuthorizerDecision.refuse(status: 500, body: #"{"message":"Internal Server Error"}"#)
}

/// The answers API Gateway gives when an authorizer refuses: REST APIs word theirs differently
/// from HTTP and WebSocket APIs, and tell an explicit Deny from a policy that allows something else.
struct AuthorizerRefusals: Sendable {
    var unauthorized = AuthorizerDecision.unauthorized
    var explicitDeny = AuthorizerDecision.forbidden
    var notAllowed = AuthorizerDecision.forbidden
    var failed = AuthorizerDecision.failed

    init(for authorizer: Template.Authorizer) {
        guard authorizer.rest != nil else { return }
        explicitDeny = .refuse(status: 403, body: #"{"Message":"User is not authorized to access this resource with an explicit deny"}"#)
        notAllowed = .refuse(status: 403, body: #"{"Message":"User is not authorized to access this resource"}"#)
        failed = .refuse(status: 500, body: #"{"message": null}"#)
    }
}

/// The pure parts of running a Lambda authorizer: reading its identity sources from a request and
/// its answer into a decision. The stage does the invoking (`Stage.authorize`).
enum LambdaAuthorizer {
    /// The identity sources' values in order, or nil when one is missing or empty (API Gateway's 401).
    /// Header names match case-insensitively, query-string names exactly.
    static func identity(_ authorizer: Template.Authorizer, headers: [String: String], query: [String: String]) -> [String]? {
        var values: [String] = []
        for source in authorizer.identitySources {
            let value: String?
            switch source {
            case .header(let name): value = headers.first { $0.key.lowercased() == name.lowercased() }?.value
            case .queryString(let name): value = query[name]
            }
            guard let value, !value.isEmpty else { return nil }
            values.append(value)
        }
        return values
    }

    /// The decision an authorizer's response makes for a request on `resourceArn`: a simple
    /// response (`isAuthorized`) when the authorizer is set up for them, else an IAM policy that
    /// allows it (some `Allow` statement's resource matches and no `Deny` statement's does).
    static func decision(_ response: JSONValue?, authorizer: Template.Authorizer, resourceArn: String) -> AuthorizerDecision {
        let refusals = AuthorizerRefusals(for: authorizer)
        guard let response, case .object = response else { return refusals.failed }
        var context: [String: JSONValue]
        switch response["context"] {
        case .object(let object)?: context = object
        case nil, .null?: context = [:]
        default: return refusals.failed
        }
        if authorizer.rest != nil {
            guard let strings = restContext(context) else { return refusals.failed }
            context = strings
        }
        if authorizer.simpleResponses {
            guard case .bool(let authorized)? = response["isAuthorized"] else { return refusals.failed }
            return authorized ? .allow(context: context, principalId: nil) : refusals.explicitDeny
        }
        guard let document = response["policyDocument"], let statements = document["Statement"] else { return refusals.failed }
        let list = statements.arrayValue ?? [statements]
        var allowed = false
        for statement in list {
            let resources = statement["Resource"].map { $0.arrayValue ?? [$0] }?.compactMap(\.stringValue) ?? []
            guard resources.contains(where: { matches(pattern: $0, resourceArn) }) else { continue }
            switch statement["Effect"]?.stringValue?.lowercased() {
            case "deny": return refusals.explicitDeny
            case "allow": allowed = true
            default: continue
            }
        }
        return allowed ? .allow(context: context, principalId: response["principalId"]?.stringValue) : refusals.notAllowed
    }

    /// A REST API authorizer's context as the route's event gets it: each value a string, number or
    /// boolean, passed on as a string; anything else (an object, an array, `null`) makes the
    /// authorizer fail, as API Gateway's `AuthorizerConfigurationException` does. Nil then.
    static func restContext(_ context: [String: JSONValue]) -> [String: JSONValue]? {
        var strings: [String: JSONValue] = [:]
        for (key, value) in context {
            switch value {
            case .string: strings[key] = value
            case .bool(let flag): strings[key] = .string(flag ? "true" : "false")
            case .number(let number):
                strings[key] = .string(number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number))
            case .null, .array, .object: return nil
            }
        }
        return strings
    }

    /// IAM's resource matching: `*` any run of characters, `?` one character, everything else literal.
    static func matches(pattern: String, _ text: String) -> Bool {
        let pattern = Array(pattern), text = Array(text)
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                mark = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
