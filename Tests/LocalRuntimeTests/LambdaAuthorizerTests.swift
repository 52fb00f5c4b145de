import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("Lambda authorizer answers, decided as API Gateway decides them")
struct LambdaAuthorizerTests {
    static let arn = "arn:aws:execute-api:us-east-1:123456789012:local/dev/$connect"
    static let policy = Template.Authorizer(logicalId: "A", function: "F", identitySources: [.header("Auth"), .queryString("token")],
                                            simpleResponses: false, payloadFormatVersion: "1.0")

    func answer(_ json: String, simple: Bool = false) throws -> AuthorizerDecision {
        var authorizer = Self.policy
        authorizer.simpleResponses = simple
        return LambdaAuthorizer.decision(try JSONValue(parsing: Data(json.utf8)), authorizer: authorizer, resourceArn: Self.arn)
    }

    @Test("every identity source must be present and non-empty; header names match in any case")
    func identity() {
        #expect(LambdaAuthorizer.identity(Self.policy, headers: ["auth": "a"], query: ["token": "t"]) == ["a", "t"])
        #expect(LambdaAuthorizer.identity(Self.policy, headers: ["Auth": "a"], query: [:]) == nil)
        #expect(LambdaAuthorizer.identity(Self.policy, headers: ["Auth": ""], query: ["token": "t"]) == nil)
    }

    @Test("an Allow statement whose resource matches allows, with the context and principal")
    func allow() throws {
        #expect(try answer(#"{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Resource":"arn:aws:execute-api:*:*:local/dev/*"}]},"context":{"k":"v"}}"#)
                == .allow(context: ["k": .string("v")], principalId: "u"))
    }

    @Test("a matching Deny wins over an Allow; an Allow of another resource is no Allow")
    func deny() throws {
        #expect(try answer(#"{"policyDocument":{"Statement":[{"Effect":"Allow","Resource":"*"},{"Effect":"Deny","Resource":"*"}]}}"#) == .forbidden)
        #expect(try answer(#"{"policyDocument":{"Statement":{"Effect":"Allow","Resource":"arn:aws:execute-api:*:*:other/*"}}}"#) == .forbidden)
    }

    @Test("a response that is neither a policy nor, for simple authorizers, isAuthorized is a failure")
    func malformed() throws {
        #expect(try answer(#"{"isAuthorized":true}"#) == .failed)
        #expect(try answer(#"{"policyDocument":{}}"#, simple: true) == .failed)
        #expect(LambdaAuthorizer.decision(nil, authorizer: Self.policy, resourceArn: Self.arn) == .failed)
    }

    @Test("simple responses allow or forbid by isAuthorized")
    func simple() throws {
        #expect(try answer(#"{"isAuthorized":true,"context":{"u":1}}"#, simple: true) == .allow(context: ["u": .number(1)], principalId: nil))
        #expect(try answer(#"{"isAuthorized":false}"#, simple: true) == .forbidden)
    }

    @Test("a REST API's authorizer refuses in REST's words: an explicit Deny, no Allow for the resource, and a failure differ")
    func restRefusals() throws {
        var rest = Self.policy
        rest.rest = .token(validationExpression: nil)
        func answer(_ json: String?) throws -> AuthorizerDecision {
            LambdaAuthorizer.decision(try json.map { try JSONValue(parsing: Data($0.utf8)) }, authorizer: rest, resourceArn: Self.arn)
        }
        #expect(try answer(#"{"policyDocument":{"Statement":{"Effect":"Deny","Resource":"*"}}}"#)
                == .refuse(status: 403, body: #"{"Message":"User is not authorized to access this resource with an explicit deny"}"#))
        #expect(try answer(#"{"policyDocument":{"Statement":{"Effect":"Allow","Resource":"arn:aws:execute-api:*:*:other/*"}}}"#)
                == .refuse(status: 403, body: #"{"Message":"User is not authorized to access this resource"}"#))
        #expect(try answer(nil) == .refuse(status: 500, body: #"{"message": null}"#))
    }

    @Test("a REST API authorizer's context reaches the route as strings; an object, array or null in it is a failure")
    func restContext() throws {
        var rest = Self.policy
        rest.rest = .request
        let allow = #"{"principalId":"u","policyDocument":{"Statement":{"Effect":"Allow","Resource":"*"}},"context":"#
        #expect(LambdaAuthorizer.decision(try JSONValue(parsing: Data((allow + #"{"s":"x","n":3,"f":1.5,"b":true}}"#).utf8)), authorizer: rest, resourceArn: Self.arn)
                == .allow(context: ["s": .string("x"), "n": .string("3"), "f": .string("1.5"), "b": .string("true")], principalId: "u"))
        for bad in [#"{"o":{"k":1}}}"#, #"{"a":[1]}}"#, #"{"z":null}}"#] {
            #expect(LambdaAuthorizer.decision(try JSONValue(parsing: Data((allow + bad).utf8)), authorizer: rest, resourceArn: Self.arn)
                    == AuthorizerRefusals(for: rest).failed)
        }
    }

    @Test("resource patterns: * spans any run of characters, ? one")
    func patterns() {
        #expect(LambdaAuthorizer.matches(pattern: "arn:*:local/*/GET/*", "arn:aws:local/$default/GET/items/1"))
        #expect(LambdaAuthorizer.matches(pattern: "a?c", "abc"))
        #expect(!LambdaAuthorizer.matches(pattern: "arn:*:local/dev/POST/*", "arn:aws:local/dev/GET/x"))
    }
}
