/// An HTTP API event, payload format 2.0, as API Gateway delivers it to Lambda.
///
/// Every field AWS may omit is optional; unknown fields are ignored so that new AWS fields never
/// break decoding.
public struct APIGatewayV2Request: Codable, Sendable, Equatable {
    public struct RequestContext: Codable, Sendable, Equatable {
        public struct HTTP: Codable, Sendable, Equatable {
            public var method: String
            public var path: String?
            public var `protocol`: String?
            public var sourceIp: String?
            public var userAgent: String?

            public init(method: String, path: String?, protocol: String?, sourceIp: String?, userAgent: String?) {
                self.method = method
                self.path = path
                self.protocol = `protocol`
                self.sourceIp = sourceIp
                self.userAgent = userAgent
            }
        }
        public var accountId: String?
        public var apiId: String?
        public var domainName: String?
        public var domainPrefix: String?
        public var http: HTTP
        public var requestId: String?
        public var routeKey: String?
        public var stage: String?
        public var time: String?
        public var timeEpoch: Int64?

        public init(accountId: String?, apiId: String?, domainName: String?, domainPrefix: String?, http: HTTP,
                    requestId: String?, routeKey: String?, stage: String?, time: String?, timeEpoch: Int64?) {
            self.accountId = accountId
            self.apiId = apiId
            self.domainName = domainName
            self.domainPrefix = domainPrefix
            self.http = http
            self.requestId = requestId
            self.routeKey = routeKey
            self.stage = stage
            self.time = time
            self.timeEpoch = timeEpoch
        }
    }

    public var version: String
    public var routeKey: String?
    public var rawPath: String?
    public var rawQueryString: String?
    public var cookies: [String]?
    public var headers: [String: String]?
    public var queryStringParameters: [String: String]?
    public var pathParameters: [String: String]?
    public var stageVariables: [String: String]?
    public var requestContext: RequestContext
    public var body: String?
    public var isBase64Encoded: Bool?

    public init(
        routeKey: String, rawPath: String, rawQueryString: String = "", cookies: [String]? = nil,
        headers: [String: String], queryStringParameters: [String: String]? = nil,
        pathParameters: [String: String]? = nil, requestContext: RequestContext,
        body: String?, isBase64Encoded: Bool = false
    ) {
        self.version = "2.0"
        self.routeKey = routeKey
        self.rawPath = rawPath
        self.rawQueryString = rawQueryString
        self.cookies = cookies
        self.headers = headers
        self.queryStringParameters = queryStringParameters
        self.pathParameters = pathParameters
        self.requestContext = requestContext
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }
}

/// The response an HTTP API (2.0) integration returns.
public struct APIGatewayV2Response: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var headers: [String: String]?
    public var multiValueHeaders: [String: [String]]?
    public var cookies: [String]?
    public var body: String?
    public var isBase64Encoded: Bool?
}
