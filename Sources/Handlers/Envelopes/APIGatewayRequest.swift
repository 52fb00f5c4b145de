/// A REST API proxy event, payload format 1.0 (also what HTTP APIs send with format 1.0).
public struct APIGatewayRequest: Codable, Sendable, Equatable {
    public struct RequestContext: Codable, Sendable, Equatable {
        public struct Identity: Codable, Sendable, Equatable {
            public var sourceIp: String?
            public var userAgent: String?
        }
        public var accountId: String?
        public var apiId: String?
        public var resourcePath: String?
        public var httpMethod: String?
        public var requestId: String?
        public var stage: String?
        public var path: String?
        public var domainName: String?
        public var requestTimeEpoch: Int64?
        public var identity: Identity?
    }

    public var resource: String?
    public var path: String?
    public var httpMethod: String
    public var headers: [String: String]?
    public var multiValueHeaders: [String: [String]]?
    public var queryStringParameters: [String: String]?
    public var multiValueQueryStringParameters: [String: [String]]?
    public var pathParameters: [String: String]?
    public var stageVariables: [String: String]?
    public var requestContext: RequestContext?
    public var body: String?
    public var isBase64Encoded: Bool?
}

/// The response a REST API proxy integration returns; `multiValueHeaders` carries repeated headers.
public struct APIGatewayResponse: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var headers: [String: String]?
    public var multiValueHeaders: [String: [String]]?
    public var body: String?
    public var isBase64Encoded: Bool?
}

extension APIGatewayRequest: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        resource = try fields.decodeIfPresent("resource")
        path = try fields.decodeIfPresent("path")
        httpMethod = try fields.decode("httpMethod")
        headers = try fields.decodeIfPresent("headers")
        multiValueHeaders = try fields.decodeIfPresent("multiValueHeaders")
        queryStringParameters = try fields.decodeIfPresent("queryStringParameters")
        multiValueQueryStringParameters = try fields.decodeIfPresent("multiValueQueryStringParameters")
        pathParameters = try fields.decodeIfPresent("pathParameters")
        stageVariables = try fields.decodeIfPresent("stageVariables")
        requestContext = try fields.decodeIfPresent("requestContext")
        body = try fields.decodeIfPresent("body")
        isBase64Encoded = try fields.decodeIfPresent("isBase64Encoded")
    }
}

extension APIGatewayRequest.RequestContext: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        accountId = try fields.decodeIfPresent("accountId")
        apiId = try fields.decodeIfPresent("apiId")
        resourcePath = try fields.decodeIfPresent("resourcePath")
        httpMethod = try fields.decodeIfPresent("httpMethod")
        requestId = try fields.decodeIfPresent("requestId")
        stage = try fields.decodeIfPresent("stage")
        path = try fields.decodeIfPresent("path")
        domainName = try fields.decodeIfPresent("domainName")
        requestTimeEpoch = try fields.decodeIfPresent("requestTimeEpoch")
        identity = try fields.decodeIfPresent("identity")
    }
}

extension APIGatewayRequest.RequestContext.Identity: JSONValueDecodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        sourceIp = try fields.decodeIfPresent("sourceIp")
        userAgent = try fields.decodeIfPresent("userAgent")
    }
}

extension APIGatewayResponse: JSONValueEncodable {
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["statusCode": statusCode.jsonValue]
        object.set("headers", headers)
        object.set("multiValueHeaders", multiValueHeaders)
        object.set("body", body)
        object.set("isBase64Encoded", isBase64Encoded)
        return .object(object)
    }
}
