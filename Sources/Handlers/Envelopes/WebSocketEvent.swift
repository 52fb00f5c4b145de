/// A WebSocket API event (`CONNECT`, `MESSAGE` or `DISCONNECT`) as API Gateway delivers it.
///
/// AWS sends headers and query strings on `$connect` only, `messageId` on messages only, and the
/// close code and reason on `$disconnect` only; all are optional here for that reason.
public struct WebSocketEvent: Codable, Sendable, Equatable {
    public enum EventType: String, Codable, Sendable { case connect = "CONNECT", message = "MESSAGE", disconnect = "DISCONNECT" }

    public struct RequestContext: Codable, Sendable, Equatable {
        public struct Identity: Codable, Sendable, Equatable {
            public var sourceIp: String?
            public var userAgent: String?
            public init(sourceIp: String?, userAgent: String?) {
                self.sourceIp = sourceIp
                self.userAgent = userAgent
            }
        }
        public var routeKey: String
        public var eventType: EventType
        public var connectionId: String
        public var messageId: String?
        public var messageDirection: String?
        public var domainName: String?
        public var stage: String?
        public var apiId: String?
        public var requestId: String?
        public var extendedRequestId: String?
        public var requestTime: String?
        public var requestTimeEpoch: Int64?
        public var connectedAt: Int64?
        public var identity: Identity?
        public var disconnectStatusCode: Int?
        public var disconnectReason: String?
        public var authorizer: [String: JSONValue]?

        public init(
            routeKey: String, eventType: EventType, connectionId: String, messageId: String? = nil,
            domainName: String?, stage: String?, apiId: String? = nil, requestId: String? = nil,
            extendedRequestId: String? = nil, requestTime: String? = nil, requestTimeEpoch: Int64?,
            connectedAt: Int64?, identity: Identity?, disconnectStatusCode: Int? = nil, disconnectReason: String? = nil
        ) {
            self.routeKey = routeKey
            self.eventType = eventType
            self.connectionId = connectionId
            self.messageId = messageId
            self.messageDirection = "IN"
            self.domainName = domainName
            self.stage = stage
            self.apiId = apiId
            self.requestId = requestId
            self.extendedRequestId = extendedRequestId
            self.requestTime = requestTime
            self.requestTimeEpoch = requestTimeEpoch
            self.connectedAt = connectedAt
            self.identity = identity
            self.disconnectStatusCode = disconnectStatusCode
            self.disconnectReason = disconnectReason
        }
    }

    public var requestContext: RequestContext
    public var headers: [String: String]?
    public var multiValueHeaders: [String: [String]]?
    public var queryStringParameters: [String: String]?
    public var multiValueQueryStringParameters: [String: [String]]?
    public var body: String?
    public var isBase64Encoded: Bool?

    public init(
        requestContext: RequestContext, headers: [String: String]? = nil,
        multiValueHeaders: [String: [String]]? = nil, queryStringParameters: [String: String]? = nil,
        multiValueQueryStringParameters: [String: [String]]? = nil, body: String? = nil, isBase64Encoded: Bool = false
    ) {
        self.requestContext = requestContext
        self.headers = headers
        self.multiValueHeaders = multiValueHeaders
        self.queryStringParameters = queryStringParameters
        self.multiValueQueryStringParameters = multiValueQueryStringParameters
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }

    public var headerFields: HTTPHeaders { HTTPHeaders(headers) }

    /// The endpoint of the `@connections` management API for this event's stage, as AWS documents it.
    public var managementEndpoint: String? {
        guard let domain = requestContext.domainName, let stage = requestContext.stage else { return nil }
        return "https://\(domain)/\(stage)"
    }

    /// The message body as bytes, refused above `limit`.
    public func bodyBytes(limit: Int) throws(BodyError) -> [UInt8] {
        try EventBody.bytes(body, isBase64Encoded: isBase64Encoded ?? false, limit: limit)
    }
}

/// What a WebSocket route integration returns. On `$connect` a non-2xx status rejects the handshake;
/// on other routes `body` goes back to the client only when the route declares a route response.
public struct WebSocketResponse: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var headers: [String: String]?
    public var body: String?

    public init(statusCode: Int, headers: [String: String]? = nil, body: String? = nil) {
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
    }
}
