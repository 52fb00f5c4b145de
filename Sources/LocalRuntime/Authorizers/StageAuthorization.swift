import Foundation
import Handlers

extension Stage {
    /// Runs `authorizer` for a request, as API Gateway does before the route's integration: no
    /// identity is 401 without a call; otherwise the authorizer function gets `request` (the route's
    /// own event) as a REQUEST authorizer event and its answer decides (`LambdaAuthorizer.decision`).
    func authorize(_ authorizer: Template.Authorizer, request: JSONValue, headers: [String: String], query: [String: String],
                   resourceArn: String, id: String) async -> AuthorizerDecision {
        guard let identity = LambdaAuthorizer.identity(authorizer, headers: headers, query: query) else { return .unauthorized }
        if let jwt = authorizer.jwt {
            guard let keys = settings.jwks else {
                StageLog.write("  \(authorizer.logicalId): a JWT authorizer needs keys: pass --jwks FILE_OR_URL")
                return .failed
            }
            switch jwt.verify(identity[0], keys: keys, now: Date()) {
            case .success(let verified): return .allow(context: ["jwt": verified], principalId: nil)
            case .failure(let reason):
                StageLog.write("  \(authorizer.logicalId): token refused: \(reason)")
                return .unauthorized
            }
        }
        guard let function = template.functions[authorizer.function], case .object(var event) = request else { return .failed }
        event["type"] = .string("REQUEST")
        if authorizer.payloadFormatVersion == "2.0" {
            event["version"] = .string("2.0")
            event["routeArn"] = .string(resourceArn)
            event["identitySource"] = .array(identity.map(JSONValue.string))
        } else {
            event["methodArn"] = .string(resourceArn)
        }
        let response = await invoke(function, payload: JSONValue.object(event).jsonBytes, route: "authorizer", id: id)
        return LambdaAuthorizer.decision(response, authorizer: authorizer, resourceArn: resourceArn)
    }

    /// The ARN API Gateway authorizes: `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/ROUTE`.
    func executeAPIArn(stage: String, route: String) -> String {
        "arn:aws:execute-api:\(template.region):\(template.accountId):local/\(stage)/\(route)"
    }
}
