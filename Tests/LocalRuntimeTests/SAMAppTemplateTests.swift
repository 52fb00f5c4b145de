import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("templates of other SAM apps: functions, routes and stages read through intrinsics")
struct SAMAppTemplateTests {
    static let examples = TemplateTests.root.appendingPathComponent("examples")

    @Test("the Python chat's routes reach its functions through Fn::Sub integration URIs")
    func pythonChatRoutes() throws {
        let template = try Template.load(path: Self.examples.appendingPathComponent("python-websocket-chat/template.yaml").path)
        #expect(template.stageName == "dev")
        #expect(template.webSocketRoute("$connect")?.function == "OnConnectFunction")
        #expect(template.webSocketRoute("sendmessage")?.function == "SendMessageFunction")
        let function = try #require(template.functions["SendMessageFunction"])
        #expect(function.builtIn == nil)
        #expect(function.runtime == "python3.12" && function.handler == "sendmessage.handler")
        #expect(function.codeUri == Self.examples.appendingPathComponent("python-websocket-chat/src").standardizedFileURL.path)
        #expect(function.environment == ["TABLE_NAME": "python-chat-connections"])
        #expect(function.timeout == 10 && function.memorySize == 256)
    }

    @Test("parameter overrides reach environment values and stage names")
    func overridesReachTheTemplate() throws {
        let inputs = Template.Inputs(parameterOverrides: ["StageName": "prod", "ConnectionsTableName": "t2"])
        let template = try Template.load(path: Self.examples.appendingPathComponent("python-websocket-chat/template.yaml").path, inputs: inputs)
        #expect(template.stageName == "prod")
        #expect(template.functions["OnConnectFunction"]?.environment["TABLE_NAME"] == "t2")
    }

    @Test("a route response and an Fn::Sub variable map both wire the Node echo route")
    func nodeEchoRouteResponse() throws {
        let template = try Template.load(path: Self.examples.appendingPathComponent("node-websocket-echo/template.yaml").path)
        #expect(template.webSocketRoute("$default") == Template.WebSocketRoute(routeKey: "$default", function: "EchoFunction", returnsResponse: true))
        #expect(template.webSocketRoute("$connect")?.returnsResponse == false)
        #expect(template.functions["EchoFunction"]?.functionName == "local-echo")
        #expect(template.httpRoute(method: "GET", path: "/stats")?.0.function == "StatsFunction")
    }

    @Test("an unsupported intrinsic in an environment value is named with its path")
    func unsupportedIntrinsicNamesItsPlace() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: src, Environment: {Variables: {T: !ImportValue shared}}}
            """)
        #expect {
            try Template(document: document)
        } throws: { error in
            "\(error)".contains("Resources.Fn.Properties.Environment.Variables.T") && "\(error)".contains("Fn::ImportValue")
        }
    }

    @Test("an HttpApi event without Path or Method is the $default route, tried after every other")
    func defaultHTTPRoute() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Fallback:
                Type: AWS::Serverless::Function
                Properties: {Runtime: nodejs20.x, Handler: a.handler, CodeUri: src, Events: {All: {Type: HttpApi}}}
              Items:
                Type: AWS::Serverless::Function
                Properties: {Runtime: nodejs20.x, Handler: b.handler, CodeUri: src, Events: {Get: {Type: HttpApi, Properties: {Path: /items, Method: get}}}}
            """)
        let template = try Template(document: document)
        #expect(template.httpRoute(method: "GET", path: "/items")?.0.function == "Items")
        #expect(template.httpRoute(method: "POST", path: "/anything/else")?.0.function == "Fallback")
    }

    @Test("an unknown runtime is refused with the function's path")
    func unknownRuntime() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: java21, Handler: a.B, CodeUri: src}}
            """)
        #expect { try Template(document: document) } throws: { "\($0)".contains("Resources.Fn.Properties.Runtime") && "\($0)".contains("java21") }
    }
}

@Suite("several WebSocket APIs in one template")
struct SeveralWebSocketAPIsTests {
    static let yaml = """
        Resources:
          ChatApi: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}
          AdminApi: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.op}}
          ChatStage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref ChatApi, StageName: chat}}
          AdminStage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref AdminApi, StageName: admin}}
        """

    @Test("without a choice the template is refused, naming the APIs and the option")
    func refusedWithoutAChoice() throws {
        #expect { try Template(document: try TemplateDocument.parseYAML(Self.yaml)) } throws: {
            "\($0)".contains("AdminApi, ChatApi") && "\($0)".contains("--websocket-api")
        }
    }

    @Test("--websocket-api picks one API with its own stage and route selection")
    func choice() throws {
        let template = try Template(document: try TemplateDocument.parseYAML(Self.yaml), inputs: Template.Inputs(webSocketAPI: "AdminApi"))
        #expect(template.stageName == "admin")
        #expect(template.routeSelectionExpression == "$request.body.op")
    }
}

@Suite("SAM's Auth property")
struct SAMAuthTests {
    /// A Python function `Fn` (a resource of the template) with these `Events`, one per line.
    static func function(events: String) -> String {
        "\n" + """
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.handler
              CodeUri: src
              Events:

        """ + events.split(separator: "\n").map { "        \($0)" }.joined(separator: "\n") + "\n"
    }

    /// Each HTTP route's path and the authorizer guarding it.
    static func guards(_ template: Template) -> [String: String?] {
        Dictionary(uniqueKeysWithValues: template.httpRoutes.map { ($0.path, $0.authorizer) })
    }

    @Test("HttpApi events take their own Auth.Authorizer, else their API's DefaultAuthorizer, and none with NONE")
    func httpAPIAuthorizers() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Api:
                Type: AWS::Serverless::HttpApi
                Properties:
                  Auth:
                    DefaultAuthorizer: Jwt
                    Authorizers:
                      Jwt: {JwtConfiguration: {issuer: https://issuer.example, audience: [app]}, IdentitySource: $request.header.Authorization}
                      Gate: {FunctionArn: !GetAtt Gate.Arn, EnableSimpleResponses: true, Identity: {QueryStrings: [token]}}
              Gate: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.gate, CodeUri: src}}
            """ + Self.function(events: """
                Default: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /default, Method: get}}
                Named: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /named, Method: get, Auth: {Authorizer: Gate}}}
                Open: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /open, Method: get, Auth: {Authorizer: NONE}}}
                """))
        let template = try Template(document: document)
        let guards = Self.guards(template)
        #expect(guards["/default"] == "Api.Jwt")
        #expect(guards["/named"] == "Api.Gate")
        #expect(guards["/open"] == .some(nil))
        #expect(template.authorizers["Api.Jwt"]?.jwt == JWTAuthorizer(issuer: "https://issuer.example", audiences: ["app"]))
        #expect(template.authorizers["Api.Gate"]?.function == "Gate")
        #expect(template.authorizers["Api.Gate"]?.identitySources == [.queryString("token")])
        #expect(template.authorizers["Api.Gate"]?.simpleResponses == true)
    }

    @Test("a DefaultAuthorizer that names no declared authorizer is refused with its path")
    func unknownDefault() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Api: {Type: AWS::Serverless::HttpApi, Properties: {Auth: {DefaultAuthorizer: Jwt}}}
              Fn:
                Type: AWS::Serverless::Function
                Properties: {Runtime: nodejs20.x, Handler: a.handler, CodeUri: src, Events: {Get: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /x, Method: get}}}}
            """)
        #expect { try Template(document: document) } throws: { "\($0)".contains("Resources.Api.Properties.Auth.DefaultAuthorizer") }
    }

    @Test("Api events take their REST API's TOKEN, REQUEST or Cognito authorizer: their own, else the default, none with NONE")
    func restAPIAuthorizers() throws {
        let document = try TemplateDocument.parseYAML("""
            Globals:
              Api:
                Auth:
                  DefaultAuthorizer: Token
                  Authorizers:
                    Token: {FunctionArn: !GetAtt Gate.Arn, Identity: {Header: X-Token, ValidationExpression: "^[a-z]+$"}}
            Resources:
              Api:
                Type: AWS::Serverless::Api
                Properties:
                  StageName: live
                  Auth:
                    Authorizers:
                      Query: {FunctionArn: !GetAtt Gate.Arn, FunctionPayloadType: REQUEST, Identity: {Headers: [X-Client], QueryStrings: [token]}}
                      Pool: {UserPoolArn: arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Pool, AuthorizationScopes: [shop/read]}
              Gate: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.gate, CodeUri: src}}
            """ + Self.function(events: """
                Default: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /default, Method: get}}
                Query: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /query, Method: get, Auth: {Authorizer: Query}}}
                Pool: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /pool, Method: get, Auth: {Authorizer: Pool}}}
                Open: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /open, Method: get, Auth: {Authorizer: NONE}}}
                """))
        let template = try Template(document: document)
        let guards = Self.guards(template)
        #expect(guards["/default"] == "Api.Token")
        #expect(guards["/query"] == "Api.Query")
        #expect(guards["/pool"] == "Api.Pool")
        #expect(guards["/open"] == .some(nil))
        #expect(template.authorizers["Api.Token"]?.rest == .token(validationExpression: "^[a-z]+$"))
        #expect(template.authorizers["Api.Token"]?.identitySources == [.header("X-Token")])
        #expect(template.authorizers["Api.Query"]?.rest == .request)
        #expect(template.authorizers["Api.Query"]?.identitySources == [.header("X-Client"), .queryString("token")])
        #expect(template.authorizers["Api.Pool"]?.jwt == JWTAuthorizer(issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool", audiences: [], requiresExpiry: true))
        #expect(template.authorizers["Api.Pool"]?.identitySources == [.header("Authorization")])
        let scopes = Dictionary(uniqueKeysWithValues: template.httpRoutes.map { ($0.path, $0.authorizationScopes) })
        #expect(scopes["/pool"] == ["shop/read"] && scopes["/default"] == [])
    }

    @Test("an API with a Name still guards the events that Ref it: Ref gives the API's id, not its Name")
    func namedAPI() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Api:
                Type: AWS::Serverless::Api
                Properties: {Name: shop-api, StageName: live, Auth: {DefaultAuthorizer: T, Authorizers: {T: {FunctionArn: !GetAtt Gate.Arn}}}}
              Gate: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.gate, CodeUri: src}}
            """ + Self.function(events: """
                Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /x, Method: get}}
                """))
        let template = try Template(document: document)
        #expect(Self.guards(template)["/x"] == "Api.T")
        #expect(template.httpRoutes.first?.payload == .rest(stage: "live"))
    }

    @Test("ApiKeyRequired is read from the event, else its REST API; settings the stage does not enforce are listed")
    func apiKeysAndWhatIsNotEmulated() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Api:
                Type: AWS::Serverless::Api
                Properties: {StageName: live, Auth: {ApiKeyRequired: true, ResourcePolicy: {IpRangeWhitelist: [10.0.0.0/8]}}}
            """ + Self.function(events: """
                Keyed: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /keyed, Method: get}}
                Open: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /open, Method: get, Auth: {ApiKeyRequired: false}}}
                """))
        let template = try Template(document: document)
        let keyed = Dictionary(uniqueKeysWithValues: template.httpRoutes.map { ($0.path, $0.apiKeyRequired) })
        #expect(keyed == ["/keyed": true, "/open": false])
        #expect(template.notEmulated == ["Resources.Api.Properties.Auth.ResourcePolicy"])
    }

    @Test("AWS_IAM authorization is refused with its path, not served open")
    func awsIAMRefused() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Api: {Type: AWS::Serverless::Api, Properties: {StageName: live, Auth: {DefaultAuthorizer: AWS_IAM}}}
            """ + Self.function(events: """
                Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /x, Method: get}}
                """))
        #expect { try Template(document: document) } throws: { "\($0)".contains("AWS_IAM authorization is not emulated") && "\($0)".contains("Resources.Api.Properties.Auth.DefaultAuthorizer") }
    }

    @Test("a REST authorizer's validation expression that is not a regular expression is refused with its path")
    func badValidationExpression() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Api: {Type: AWS::Serverless::Api, Properties: {StageName: prod, Auth: {DefaultAuthorizer: T, Authorizers: {T: {FunctionArn: !GetAtt Fn.Arn, Identity: {ValidationExpression: "(unclosed"}}}}}}
              Fn:
                Type: AWS::Serverless::Function
                Properties: {Runtime: nodejs20.x, Handler: a.handler, CodeUri: src, Events: {Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /x, Method: get}}}}
            """)
        #expect { try Template(document: document) } throws: { "\($0)".contains("Resources.Api.Properties.Auth.Authorizers.T.Identity.ValidationExpression") }
    }
}

@Suite("SAM's CORS settings")
struct SAMCORSTests {
    @Test("CORS settings are read for each route's API: Globals.HttpApi's CorsConfiguration: true, and a REST API's quoted Cors origin")
    func corsSettings() throws {
        let document = try TemplateDocument.parseYAML("""
            Globals:
              HttpApi: {CorsConfiguration: true}
            Resources:
              Rest: {Type: AWS::Serverless::Api, Properties: {StageName: live, Cors: "'https://app.example'"}}
            """ + SAMAuthTests.function(events: """
                Http: {Type: HttpApi, Properties: {Path: /h, Method: get}}
                Rest: {Type: Api, Properties: {RestApiId: !Ref Rest, Path: /r, Method: get}}
                """))
        let template = try Template(document: document)
        #expect(template.cors(forPath: "/h") == CORSConfiguration(allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"], decoratesResponses: true))
        #expect(template.cors(forPath: "/r") == CORSConfiguration(allowOrigins: ["https://app.example"], allowMethods: ["*"], allowHeaders: [],
                                                                   decoratesResponses: false))
        #expect(template.cors(forPath: "/elsewhere") == nil)
    }

    @Test("a path's own routes decide its CORS settings; another API's $default route does not lend it its own")
    func corsOfThePathsAPI() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Open: {Type: AWS::Serverless::HttpApi, Properties: {CorsConfiguration: true}}
              Plain: {Type: AWS::Serverless::HttpApi}
            """ + SAMAuthTests.function(events: """
                Any: {Type: HttpApi, Properties: {ApiId: !Ref Open}}
                Items: {Type: HttpApi, Properties: {ApiId: !Ref Plain, Path: /items, Method: get}}
                """))
        let template = try Template(document: document)
        #expect(template.cors(forPath: "/items") == nil)
        #expect(template.cors(forPath: "/other")?.allowOrigins == ["*"])
    }
}
