import AWSSigV4
import Foundation
import Handlers
import Testing

@testable import DynamoDBStore

/// A DynamoDB endpoint that answers from a script and records what it was sent.
actor ScriptedEndpoint {
    private var answers: [(status: Int, body: String)]
    private(set) var requests: [SignableRequest] = []

    init(_ answers: [(status: Int, body: String)]) {
        self.answers = answers
    }

    func answer(_ request: SignableRequest) throws -> (status: Int, body: [UInt8]) {
        requests.append(request)
        guard !answers.isEmpty else { throw ConnectionLost() }
        let next = answers.removeFirst()
        return (next.status, Array(next.body.utf8))
    }

    struct ConnectionLost: Error {}

    static let throttled = (status: 400, body: #"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate exceeded"}"#)
    static let internalError = (status: 500, body: #"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#)
    static let item = (status: 200, body: #"{"Item":{"pk":{"S":"p"},"sk":{"S":"s"},"count":{"N":"3"}}}"#)
}

@Suite("DynamoDB client")
struct DynamoDBClientTests {
    let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token"),
                             region: "eu-west-1", service: "dynamodb")

    func client(_ endpoint: ScriptedEndpoint, attempts: Int = 4) -> DynamoDBClient {
        DynamoDBClient(endpoint: "https://dynamodb.eu-west-1.amazonaws.com", signer: signer,
                       retry: RetryPolicy(maxAttempts: attempts, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5)),
                       transport: { try await endpoint.answer($0) })
    }

    func getItem(_ client: DynamoDBClient, idempotent: Bool = true) async throws -> ItemResponse {
        var request = ItemRequest(table: "chat")
        request.key = ["pk": .string("p"), "sk": .string("s")]
        return try await client.call("GetItem", request, idempotent: idempotent)
    }

    @Test("requests name the operation in X-Amz-Target and are signed for dynamodb with the session token")
    func signedRequest() async throws {
        let endpoint = ScriptedEndpoint([ScriptedEndpoint.item])
        let response = try await getItem(client(endpoint))
        #expect(response.item?["count"] == .number("3"))
        let sent = try #require(await endpoint.requests.first)
        #expect(sent.values(of: "X-Amz-Target") == ["DynamoDB_20120810.GetItem"])
        #expect(sent.values(of: "Content-Type") == ["application/x-amz-json-1.0"])
        #expect(sent.values(of: "X-Amz-Security-Token") == ["token"])
        #expect(sent.values(of: "Authorization").first?.contains("/eu-west-1/dynamodb/aws4_request") == true)
        let body = try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any]
        #expect(body?["TableName"] as? String == "chat")
    }

    @Test("throttled requests are sent again until they succeed, even when not idempotent")
    func throttlingRetried() async throws {
        let endpoint = ScriptedEndpoint([ScriptedEndpoint.throttled, ScriptedEndpoint.throttled, ScriptedEndpoint.item])
        let response = try await getItem(client(endpoint), idempotent: false)
        #expect(response.item != nil)
        #expect(await endpoint.requests.count == 3)
    }

    @Test("each retry is signed again")
    func retriesResigned() async throws {
        let endpoint = ScriptedEndpoint([ScriptedEndpoint.throttled, ScriptedEndpoint.item])
        _ = try await getItem(client(endpoint))
        let authorizations = await endpoint.requests.map { $0.values(of: "Authorization") }
        #expect(authorizations.allSatisfy { $0.count == 1 })
    }

    @Test("throttling past the last attempt ends in DynamoDB's error")
    func throttlingGivesUp() async throws {
        let endpoint = ScriptedEndpoint(Array(repeating: ScriptedEndpoint.throttled, count: 5))
        let error = await #expect(throws: DynamoDBError.self) { try await getItem(client(endpoint, attempts: 3)) }
        #expect(error?.type == "ProvisionedThroughputExceededException")
        #expect(error?.message == "Rate exceeded")
        #expect(error?.description == "DynamoDB GetItem failed with 400 ProvisionedThroughputExceededException: Rate exceeded")
        #expect(await endpoint.requests.count == 3)
    }

    @Test("a server fault is retried for an idempotent request")
    func serverFaultRetriedWhenIdempotent() async throws {
        let endpoint = ScriptedEndpoint([ScriptedEndpoint.internalError, ScriptedEndpoint.item])
        _ = try await getItem(client(endpoint), idempotent: true)
        #expect(await endpoint.requests.count == 2)
    }

    @Test("a server fault or lost connection is not retried for a request that must not apply twice")
    func ambiguousFailureNotRetried() async throws {
        let faulted = ScriptedEndpoint([ScriptedEndpoint.internalError, ScriptedEndpoint.item])
        await #expect(throws: DynamoDBError.self) { try await getItem(client(faulted), idempotent: false) }
        #expect(await faulted.requests.count == 1)

        let lost = ScriptedEndpoint([])
        await #expect(throws: ScriptedEndpoint.ConnectionLost.self) { try await getItem(client(lost), idempotent: false) }
        #expect(await lost.requests.count == 1)
    }

    @Test("a client error is reported at once with DynamoDB's type and message")
    func clientErrorNotRetried() async throws {
        let endpoint = ScriptedEndpoint([(400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#)])
        let error = await #expect(throws: DynamoDBError.self) { try await getItem(client(endpoint)) }
        #expect(error?.type == "ResourceNotFoundException")
        #expect(error?.message == "Requested resource not found")
        #expect(await endpoint.requests.count == 1)
    }

    @Test("a response that is not DynamoDB's JSON is an error naming the operation")
    func unreadableResponse() async throws {
        let endpoint = ScriptedEndpoint([(200, "<html>proxy error</html>")])
        let error = await #expect(throws: DynamoDBResponseError.self) { try await getItem(client(endpoint)) }
        #expect(error?.operation == "GetItem")
    }

    @Test("backoff delays stay under the capped exponential ceiling", arguments: 1...12)
    func backoffCeiling(_ retry: Int) {
        let policy = RetryPolicy(maxAttempts: 20, baseDelay: .milliseconds(25), maxDelay: .seconds(2))
        let ceiling = min(Duration.seconds(2), .milliseconds(25) * (1 << (retry - 1)))
        for _ in 0..<50 {
            let delay = policy.delay(beforeRetry: retry)
            #expect(delay >= .zero && delay <= ceiling)
        }
    }
}

@Suite("DynamoDB store configuration")
struct DynamoDBStoreConfigurationTests {
    let lambda = ["TABLE_NAME": "chat-ChatStateTable-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
                  "AWS_SESSION_TOKEN": "token", "AWS_REGION": "eu-central-1"]

    @Test("in Lambda the table comes from TABLE_NAME and the endpoint from the region")
    func lambdaEnvironment() throws {
        let store = try DynamoDBStore(environment: lambda)
        #expect(store.tableName == "chat-ChatStateTable-1")
        #expect(store.client.endpoint == "https://dynamodb.eu-central-1.amazonaws.com")
        #expect(store.client.signer.credentials.sessionToken == "token")
        #expect(DynamoDBStore.regionalEndpoint("cn-north-1") == "https://dynamodb.cn-north-1.amazonaws.com.cn")
    }

    @Test("DYNAMODB_ENDPOINT points the store at a local server")
    func endpointOverride() throws {
        var environment = lambda
        environment["DYNAMODB_ENDPOINT"] = "http://127.0.0.1:8000"
        #expect(try DynamoDBStore(environment: environment).client.endpoint == "http://127.0.0.1:8000")
    }

    @Test("the AWS SDKs' endpoint variables: the service's own first, then the alias, then the global one")
    func sdkEndpointVariables() throws {
        let service = "http://127.0.0.1:1", alias = "http://127.0.0.1:2", global = "http://127.0.0.1:3"
        let settings: [([String: String], String)] = [
            (["AWS_ENDPOINT_URL": global], global),
            (["AWS_ENDPOINT_URL": global, "DYNAMODB_ENDPOINT": alias], alias),
            (["AWS_ENDPOINT_URL": global, "DYNAMODB_ENDPOINT": alias, "AWS_ENDPOINT_URL_DYNAMODB": service], service),
            (["AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_DYNAMODB": ""], "https://dynamodb.eu-central-1.amazonaws.com"),
        ]
        for (variables, expected) in settings {
            #expect(try DynamoDBStore(environment: lambda.merging(variables) { $1 }).client.endpoint == expected)
        }
    }

    @Test("outside Lambda, credentials and region come from the shared files under AWS_PROFILE")
    func sharedFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = directory.appendingPathComponent("credentials"), config = directory.appendingPathComponent("config")
        try Data("[default]\naws_access_key_id = d\naws_secret_access_key = d\n[dev]\n aws_access_key_id = x\naws_access_key_id = AKDEV\naws_secret_access_key = devsecret\n".utf8).write(to: credentials)
        try Data("[default]\nregion = us-west-2\n[profile dev]\nregion = eu-west-3\n".utf8).write(to: config)
        let environment = ["TABLE_NAME": "t", "AWS_PROFILE": "dev", "AWS_SHARED_CREDENTIALS_FILE": credentials.path, "AWS_CONFIG_FILE": config.path]
        let store = try DynamoDBStore(environment: environment)
        #expect(store.client.signer.credentials == AWSCredentials(accessKeyId: "AKDEV", secretAccessKey: "devsecret"))
        #expect(store.client.signer.region == "eu-west-3")
        var withKeys = environment
        withKeys["AWS_ACCESS_KEY_ID"] = "AKENV"
        withKeys["AWS_SECRET_ACCESS_KEY"] = "envsecret"
        withKeys["AWS_REGION"] = "ap-south-1"
        let fromEnvironment = try DynamoDBStore(environment: withKeys)
        #expect(fromEnvironment.client.signer.credentials.accessKeyId == "AKENV")
        #expect(fromEnvironment.client.signer.region == "ap-south-1")
    }

    @Test("security events expire RETENTION_DAYS after they happened (30 by default)", arguments: [(nil, 30), ("7", 7), ("90", 90)])
    func retentionDays(_ setting: String?, _ days: Int) async throws {
        var environment = lambda
        environment["RETENTION_DAYS"] = setting
        let configured = try DynamoDBStore(environment: environment)
        let endpoint = ScriptedEndpoint([(status: 200, body: "{}")])
        let store = DynamoDBStore(tableName: configured.tableName, client: DynamoDBClient(
            endpoint: "https://dynamodb.eu-west-1.amazonaws.com", signer: configured.client.signer, transport: { try await endpoint.answer($0) }),
            retentionDays: Int(configured.retention / 86_400))
        let happened = Date(timeIntervalSince1970: 1_763_596_800)
        try await store.recordSecurityEvent(SecurityEvent(id: "e1", type: .rateLimit, widgetId: nil, origin: nil, domain: nil,
                                                          sourceIp: "198.51.100.7", userAgent: nil, details: [:], createdAt: happened))
        let sent = try #require(await endpoint.requests.first)
        let body = try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any]
        let values = body?["ExpressionAttributeValues"] as? [String: Any]
        let expires = (values?[":ttl"] as? [String: Any])?["N"] as? String
        #expect(expires == String(1_763_596_800 + days * 86_400))
    }

    @Test("a missing setting is named in the error", arguments: ["TABLE_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"])
    func missingSetting(_ name: String) {
        var environment = lambda
        environment[name] = nil
        #expect(throws: AWSEnvironmentError(missing: name)) { try DynamoDBStore(environment: environment) }
    }
}
