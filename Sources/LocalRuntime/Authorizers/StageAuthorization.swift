import Foundation
import Handlers

extension Stage {
    /// Runs `authorizer` for a request, as API Gateway does before the route's integration: no
    /// identity is 401 without a call. A JWT or Cognito authorizer checks the token against
    /// `serve --jwks`; a TOKEN authorizer's token must match its validation expression (else 401
    /// without a call); then the authorizer function gets `request` (the route's own event) as a
    /// REQUEST authorizer event, or a REST API's TOKEN event, and its answer decides
    /// (`LambdaAuthorizer.decision`).
    func authorize(_ authorizer: Template.Authorizer, request: JSONValue, headers: [String: String], query: [String: String],
                   scopes: [String] = [], resourceArn: String, id: String) async -> AuthorizerDecision {
        let refusals = AuthorizerRefusals(for: authorizer)
        guard let identity = LambdaAuthorizer.identity(authorizer, headers: headers, query: query) else { return refusals.unauthorized }
        if let jwt = authorizer.jwt {
            guard let keys = settings.jwks else {
                StageLog.write("  \(authorizer.logicalId): a JWT authorizer needs keys: pass --jwks FILE_OR_URL")
                return refusals.failed
            }
            switch jwt.verify(identity[0], keys: keys, now: Date()) {
            case .success(let verified):
                if let refusal = Self.scopeRefusal(verified, scopes: scopes, authorizer: authorizer, refusals: refusals) {
                    StageLog.write("  \(authorizer.logicalId): token refused: \(scopes.isEmpty ? "not an ID token" : "none of the scopes \(scopes.joined(separator: " "))")")
                    return refusal
                }
                // A Cognito user pool authorizer hands on the token's claims; an HTTP API's JWT authorizer, claims and scopes.
                return .allow(context: authorizer.rest == nil ? ["jwt": verified] : ["claims": verified["claims"] ?? .object([:])],
                              principalId: nil)
            case .failure(let reason):
                StageLog.write("  \(authorizer.logicalId): token refused: \(reason)")
                return refusals.unauthorized
            }
        }
        guard let function = template.functions[authorizer.function], case .object(var event) = request else { return refusals.failed }
        switch authorizer.rest {
        case .token(let validationExpression)?:
            if let validationExpression, (try? Regex(validationExpression).wholeMatch(in: identity[0])) == nil {
                return refusals.unauthorized
            }
            event = ["type": .string("TOKEN"), "authorizationToken": .string(identity[0]), "methodArn": .string(resourceArn)]
        case .request?:
            // The method request without its body, which REST APIs do not give authorizers.
            event["body"] = nil
            event["isBase64Encoded"] = nil
            event["type"] = .string("REQUEST")
            event["methodArn"] = .string(resourceArn)
        case nil:
            event["type"] = .string("REQUEST")
            if authorizer.payloadFormatVersion == "2.0" {
                event["version"] = .string("2.0")
                event["routeArn"] = .string(resourceArn)
                event["identitySource"] = .array(identity.map(JSONValue.string))
            } else {
                event["methodArn"] = .string(resourceArn)
            }
        }
        switch await invocation(function, payload: JSONValue.object(event).jsonBytes, route: "authorizer", id: id) {
        case .success(let response):
            return LambdaAuthorizer.decision(response, authorizer: authorizer, resourceArn: resourceArn)
        case .failure(let error) where authorizer.rest != nil && error.errorMessage == "Unauthorized":
            // A REST API's authorizer that fails with the message `Unauthorized` refuses the caller: 401.
            return refusals.unauthorized
        case .failure:
            return refusals.failed
        }
    }

    /// Whether a valid token lacks what the route asks of it: one of `scopes` (HTTP APIs answer 403,
    /// REST APIs 401), or, for a Cognito authorizer on a route without scopes, being an ID token.
    static func scopeRefusal(_ verified: JSONValue, scopes: [String], authorizer: Template.Authorizer,
                             refusals: AuthorizerRefusals) -> AuthorizerDecision? {
        let claims = verified["claims"]
        if scopes.isEmpty {
            return authorizer.rest != nil && claims?["token_use"]?.stringValue != "id" ? refusals.unauthorized : nil
        }
        let held = (verified["scopes"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard !held.contains(where: scopes.contains) else { return nil }
        return authorizer.rest != nil ? refusals.unauthorized : refusals.explicitDeny
    }

    /// The ARN API Gateway authorizes: `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/ROUTE`.
    func executeAPIArn(stage: String, route: String) -> String {
        "arn:aws:execute-api:\(template.region):\(template.accountId):local/\(stage)/\(route)"
    }
}
