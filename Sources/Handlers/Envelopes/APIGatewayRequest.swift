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
