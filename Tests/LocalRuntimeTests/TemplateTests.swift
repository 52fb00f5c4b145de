import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("template.json as the local runtime reads it")
struct TemplateTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the repository template declares every function and WebSocket route")
    func repositoryTemplate() throws {
        let template = try Template.load(path: Self.root.appendingPathComponent("template.json").path)
        #expect(Set(template.functions.values.map(\.builtIn)).isSuperset(of: [.connect, .disconnect, .sendMessage, .chat]))
        #expect(template.routeSelectionExpression == "$request.body.action")
        #expect(template.stageName == "dev")
        #expect(template.webSocketRoute("$connect").flatMap { template.functions[$0.function] }?.builtIn == .connect)
        #expect(template.webSocketRoute("sendMessage").flatMap { template.functions[$0.function] }?.builtIn == .sendMessage)
        #expect(template.httpRoute(method: "OPTIONS", path: "/api/chat").map { template.functions[$0.0.function]?.builtIn } == .some(.chat))
    }

    @Test("greedy path parameters capture the rest of the path")
    func greedyPath() {
        let route = Template.HTTPRoute(method: "ANY", path: "/api/admin/{proxy+}", function: "AdminFunction")
        #expect(route.pathParameters(for: "/api/admin/widgets/widget_abc") == ["proxy": "widgets/widget_abc"])
        #expect(route.pathParameters(for: "/api/chat") == nil)
    }

    @Test("secrets resolved by CloudFormation stay out of the local environment")
    func dynamicReferencesAreNotLocalValues() throws {
        let template = try Template.load(path: Self.root.appendingPathComponent("template.json").path)
        for function in template.functions.values {
            #expect(function.environment["AI_API_KEY"] == nil)
            #expect(function.environment["ADMIN_JWT_SECRET"] == nil)
            #expect(function.environment["CONVERSATION_TOKEN_SECRET"] == nil)
            #expect(!function.environment.values.contains { $0.contains("{{resolve:") })
        }
        let variables = try JSONValue(parsing: Data(#"{"A":"{{resolve:secretsmanager:s:SecretString}}","B":"plain","C":{"Ref":"X"}}"#.utf8))
        #expect(Template.literalStrings(variables) == ["B": "plain"])
    }

    @Test("an integration may invoke a function's ARN or its alias, in any of the ways SAM resolves them")
    func integrationTargets() throws {
        func uri(_ json: String) throws -> JSONValue { try JSONValue(parsing: Data(json.utf8)) }
        #expect(Template.functionReference(try uri(#"{"Fn::Sub":"arn:x:functions/${ChatFunction.Arn}/invocations"}"#)) == "ChatFunction")
        #expect(Template.functionReference(try uri(#"{"Fn::Sub":"arn:x:functions/${ChatFunction.Alias}/invocations"}"#)) == "ChatFunction")
        #expect(Template.functionReference(try uri(#"{"Fn::Sub":["arn:x:functions/${F}/invocations",{"F":{"Ref":"ChatFunction.Alias"}}]}"#)) == "ChatFunction")
        #expect(Template.functionReference(try uri(#"{"Fn::Sub":["arn:x:functions/${F}/invocations",{"F":{"Fn::GetAtt":["ChatFunction","Arn"]}}]}"#)) == "ChatFunction")
        #expect(Template.functionReference(try uri(#"{"Fn::Sub":["arn:x:functions/${F}/invocations",{"F":{"Ref":"Other"}}]}"#)) == nil)
    }
}
