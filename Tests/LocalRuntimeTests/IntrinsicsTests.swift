import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("intrinsic functions, resolved as CloudFormation would")
struct IntrinsicsTests {
    static func intrinsics(parameters: [String: JSONValue] = ["Stage": .string("prod"), "Names": .array([.string("a"), .string("b")])]) throws -> Intrinsics {
        let resources = try TemplateDocument.parseYAML("""
            Table: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Sub "${AWS::StackName}-connections"}}
            OnConnect: {Type: AWS::Serverless::Function, Properties: {Handler: app.handler}}
            Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: chat}}
            """)
        guard case .object(let map) = resources else { throw Intrinsics.Failure(reason: "no resources", path: "") }
        return Intrinsics(parameters: parameters, resources: map,
                          mappings: try TemplateDocument.parseYAML("Env: {prod: {Size: '512'}}"),
                          conditions: try TemplateDocument.parseYAML("""
                              IsProd: !Equals [!Ref Stage, prod]
                              NotProd: !Not [!Condition IsProd]
                              Both: !And [!Condition IsProd, !Or [!Condition NotProd, !Equals [a, a]]]
                              """),
                          region: "eu-west-1", accountId: "123456789012", stackName: "chat")
    }

    func resolve(_ yaml: String) throws -> JSONValue? {
        try Self.intrinsics().resolve(try TemplateDocument.parseYAML("V: \(yaml)")["V"] ?? .null, at: "V")
    }

    @Test("Ref gives parameters, pseudo parameters and resources' names")
    func references() throws {
        #expect(try resolve("!Ref Stage") == .string("prod"))
        #expect(try resolve("!Ref AWS::Region") == .string("eu-west-1"))
        #expect(try resolve("!Ref AWS::AccountId") == .string("123456789012"))
        #expect(try resolve("!Ref Table") == .string("chat-connections"))
        #expect(try resolve("!Ref Api") == .string("Api"))
        #expect(try resolve("!Ref AWS::NoValue") == nil)
    }

    @Test("Fn::GetAtt gives ARNs as AWS forms them")
    func attributes() throws {
        #expect(try resolve("!GetAtt Table.Arn") == .string("arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections"))
        #expect(try resolve("!GetAtt OnConnect.Arn") == .string("arn:aws:lambda:eu-west-1:123456789012:function:OnConnect"))
    }

    @Test("Fn::Sub substitutes names, attributes and its own variables, and keeps ${!Literal}")
    func substitution() throws {
        #expect(try resolve(#"!Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${OnConnect.Arn}/invocations""#)
                == .string("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:OnConnect/invocations"))
        #expect(try resolve(#"!Sub ["${X}-${Stage}-${!Kept}", {X: !Ref Table}]"#) == .string("chat-connections-prod-${Kept}"))
    }

    @Test("Fn::Join, Fn::Split, Fn::Select and Fn::FindInMap")
    func lists() throws {
        #expect(try resolve(#"!Join ["/", [integrations, !Ref Stage]]"#) == .string("integrations/prod"))
        #expect(try resolve(#"!Select [1, !Split [",", "x,y,z"]]"#) == .string("y"))
        #expect(try resolve(#"!Select [1, !Ref Names]"#) == .string("b"))
        #expect(try resolve(#"!FindInMap [Env, !Ref Stage, Size]"#) == .string("512"))
    }

    @Test("Fn::If follows Conditions built from Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition")
    func conditions() throws {
        #expect(try resolve("!If [IsProd, big, small]") == .string("big"))
        #expect(try resolve("!If [NotProd, big, !Ref AWS::NoValue]") == nil)
        #expect(try Self.intrinsics().condition("Both", at: "x"))
        let staging = try Self.intrinsics(parameters: ["Stage": .string("staging")])
        #expect(try staging.condition("NotProd", at: "x"))
    }

    @Test("a function with no local value is refused by name and path")
    func unsupported() throws {
        let intrinsics = try Self.intrinsics()
        let value = try TemplateDocument.parseYAML("V: !ImportValue shared-table")["V"] ?? .null
        #expect(throws: Intrinsics.Failure(reason: "Fn::ImportValue is not supported by local-runtime (it has no local value); replace it with a parameter and pass the value with --parameter-overrides",
                                            path: "Resources.F.Properties.Environment.Variables.T.Fn::ImportValue")) {
            try intrinsics.resolve(value, at: "Resources.F.Properties.Environment.Variables.T")
        }
    }

    @Test("a Ref to nothing in the template names what is missing")
    func unknownReference() throws {
        do {
            _ = try resolve("!Ref Missing")
            Issue.record("resolved a Ref to nothing")
        } catch {
            #expect("\(error)".contains("Missing"))
        }
    }
}
