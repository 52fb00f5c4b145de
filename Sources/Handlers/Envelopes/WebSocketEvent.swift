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

extension WebSocketEvent.EventType: JSONValueDecodable, JSONValueEncodable {}

extension WebSocketEvent: JSONValueDecodable, JSONBytesEncodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        requestContext = try fields.decode("requestContext")
        headers = try fields.decodeIfPresent("headers")
        multiValueHeaders = try fields.decodeIfPresent("multiValueHeaders")
        queryStringParameters = try fields.decodeIfPresent("queryStringParameters")
        multiValueQueryStringParameters = try fields.decodeIfPresent("multiValueQueryStringParameters")
        body = try fields.decodeIfPresent("body")
        isBase64Encoded = try fields.decodeIfPresent("isBase64Encoded")
    }

    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["requestContext": requestContext.jsonValue]
        object.set("headers", headers)
        object.set("multiValueHeaders", multiValueHeaders)
        object.set("queryStringParameters", queryStringParameters)
        object.set("multiValueQueryStringParameters", multiValueQueryStringParameters)
        object.set("body", body)
        object.set("isBase64Encoded", isBase64Encoded)
        return .object(object)
    }
}

extension WebSocketEvent {
    /// `jsonValue.jsonBytes`, byte for byte, written field by field without building the tree of
    /// dictionaries first: the stage writes one of these per message, and building and sorting the
    /// tree cost more than writing it.
    public var jsonBytes: [UInt8] {
        var writer = JSONValueWriter()
        write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout JSONValueWriter) {
        var object = JSONObjectWriter(in: &writer)
        object.member("body", body?.jsonValue, in: &writer)
        object.member("headers", headers?.jsonValue, in: &writer)
        object.member("isBase64Encoded", isBase64Encoded?.jsonValue, in: &writer)
        object.member("multiValueHeaders", multiValueHeaders?.jsonValue, in: &writer)
        object.member("multiValueQueryStringParameters", multiValueQueryStringParameters?.jsonValue, in: &writer)
        object.member("queryStringParameters", queryStringParameters?.jsonValue, in: &writer)
        object.key("requestContext", in: &writer)
        requestContext.write(to: &writer)
        object.end(in: &writer)
    }
}

extension WebSocketEvent.RequestContext {
    func write(to writer: inout JSONValueWriter) {
        var object = JSONObjectWriter(in: &writer)
        object.member("apiId", apiId?.jsonValue, in: &writer)
        object.member("authorizer", authorizer?.jsonValue, in: &writer)
        object.member("connectedAt", connectedAt?.jsonValue, in: &writer)
        object.member("connectionId", .string(connectionId), in: &writer)
        object.member("disconnectReason", disconnectReason?.jsonValue, in: &writer)
        object.member("disconnectStatusCode", disconnectStatusCode?.jsonValue, in: &writer)
        object.member("domainName", domainName?.jsonValue, in: &writer)
        object.member("eventType", eventType.jsonValue, in: &writer)
        object.member("extendedRequestId", extendedRequestId?.jsonValue, in: &writer)
        if let identity {
            object.key("identity", in: &writer)
            var fields = JSONObjectWriter(in: &writer)
            fields.member("sourceIp", identity.sourceIp?.jsonValue, in: &writer)
            fields.member("userAgent", identity.userAgent?.jsonValue, in: &writer)
            fields.end(in: &writer)
        }
        object.member("messageDirection", messageDirection?.jsonValue, in: &writer)
        object.member("messageId", messageId?.jsonValue, in: &writer)
        object.member("requestId", requestId?.jsonValue, in: &writer)
        object.member("requestTime", requestTime?.jsonValue, in: &writer)
        object.member("requestTimeEpoch", requestTimeEpoch?.jsonValue, in: &writer)
        object.member("routeKey", .string(routeKey), in: &writer)
        object.member("stage", stage?.jsonValue, in: &writer)
        object.end(in: &writer)
    }
}

extension WebSocketEvent.RequestContext: JSONValueDecodable, JSONValueEncodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        routeKey = try fields.decode("routeKey")
        eventType = try fields.decode("eventType")
        connectionId = try fields.decode("connectionId")
        messageId = try fields.decodeIfPresent("messageId")
        messageDirection = try fields.decodeIfPresent("messageDirection")
        domainName = try fields.decodeIfPresent("domainName")
        stage = try fields.decodeIfPresent("stage")
        apiId = try fields.decodeIfPresent("apiId")
        requestId = try fields.decodeIfPresent("requestId")
        extendedRequestId = try fields.decodeIfPresent("extendedRequestId")
        requestTime = try fields.decodeIfPresent("requestTime")
        requestTimeEpoch = try fields.decodeIfPresent("requestTimeEpoch")
        connectedAt = try fields.decodeIfPresent("connectedAt")
        identity = try fields.decodeIfPresent("identity")
        disconnectStatusCode = try fields.decodeIfPresent("disconnectStatusCode")
        disconnectReason = try fields.decodeIfPresent("disconnectReason")
        authorizer = try fields.decodeIfPresent("authorizer")
    }

    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "routeKey": .string(routeKey), "eventType": eventType.jsonValue, "connectionId": .string(connectionId),
        ]
        object.set("messageId", messageId)
        object.set("messageDirection", messageDirection)
        object.set("domainName", domainName)
        object.set("stage", stage)
        object.set("apiId", apiId)
        object.set("requestId", requestId)
        object.set("extendedRequestId", extendedRequestId)
        object.set("requestTime", requestTime)
        object.set("requestTimeEpoch", requestTimeEpoch)
        object.set("connectedAt", connectedAt)
        object.set("identity", identity)
        object.set("disconnectStatusCode", disconnectStatusCode)
        object.set("disconnectReason", disconnectReason)
        object.set("authorizer", authorizer)
        return .object(object)
    }
}

extension WebSocketEvent.RequestContext.Identity: JSONValueDecodable, JSONValueEncodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        sourceIp = try fields.decodeIfPresent("sourceIp")
        userAgent = try fields.decodeIfPresent("userAgent")
    }

    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [:]
        object.set("sourceIp", sourceIp)
        object.set("userAgent", userAgent)
        return .object(object)
    }
}

extension WebSocketResponse: JSONValueEncodable {
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["statusCode": statusCode.jsonValue]
        object.set("headers", headers)
        object.set("body", body)
        return .object(object)
    }
}

extension WebSocketEvent.EventType: JSONReadable {}

extension WebSocketEvent: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var requestContext = JSONField<RequestContext>(), headers = JSONField<[String: String]?>()
        var multiValueHeaders = JSONField<[String: [String]]?>(), queryStringParameters = JSONField<[String: String]?>()
        var multiValueQueryStringParameters = JSONField<[String: [String]]?>(), body = JSONField<String?>()
        var isBase64Encoded = JSONField<Bool?>()
        try reader.readFields { reader, key throws(JSONReader.Declined) in
            switch key {
            case "requestContext": try requestContext.read(from: &reader)
            case "headers": try headers.read(from: &reader)
            case "multiValueHeaders": try multiValueHeaders.read(from: &reader)
            case "queryStringParameters": try queryStringParameters.read(from: &reader)
            case "multiValueQueryStringParameters": try multiValueQueryStringParameters.read(from: &reader)
            case "body": try body.read(from: &reader)
            case "isBase64Encoded": try isBase64Encoded.read(from: &reader)
            default: try reader.skipValue()
            }
        }
        self.requestContext = try requestContext.required()
        self.headers = headers.optional()
        self.multiValueHeaders = multiValueHeaders.optional()
        self.queryStringParameters = queryStringParameters.optional()
        self.multiValueQueryStringParameters = multiValueQueryStringParameters.optional()
        self.body = body.optional()
        self.isBase64Encoded = isBase64Encoded.optional()
    }
}

extension WebSocketEvent.RequestContext: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var routeKey = JSONField<String>(), eventType = JSONField<WebSocketEvent.EventType>(), connectionId = JSONField<String>()
        var messageId = JSONField<String?>(), messageDirection = JSONField<String?>(), domainName = JSONField<String?>()
        var stage = JSONField<String?>(), apiId = JSONField<String?>(), requestId = JSONField<String?>()
        var extendedRequestId = JSONField<String?>(), requestTime = JSONField<String?>(), requestTimeEpoch = JSONField<Int64?>()
        var connectedAt = JSONField<Int64?>(), identity = JSONField<Identity?>(), disconnectStatusCode = JSONField<Int?>()
        var disconnectReason = JSONField<String?>(), authorizer = JSONField<[String: JSONValue]?>()
        try reader.readFields { reader, key throws(JSONReader.Declined) in
            switch key {
            case "routeKey": try routeKey.read(from: &reader)
            case "eventType": try eventType.read(from: &reader)
            case "connectionId": try connectionId.read(from: &reader)
            case "messageId": try messageId.read(from: &reader)
            case "messageDirection": try messageDirection.read(from: &reader)
            case "domainName": try domainName.read(from: &reader)
            case "stage": try stage.read(from: &reader)
            case "apiId": try apiId.read(from: &reader)
            case "requestId": try requestId.read(from: &reader)
            case "extendedRequestId": try extendedRequestId.read(from: &reader)
            case "requestTime": try requestTime.read(from: &reader)
            case "requestTimeEpoch": try requestTimeEpoch.read(from: &reader)
            case "connectedAt": try connectedAt.read(from: &reader)
            case "identity": try identity.read(from: &reader)
            case "disconnectStatusCode": try disconnectStatusCode.read(from: &reader)
            case "disconnectReason": try disconnectReason.read(from: &reader)
            case "authorizer": try authorizer.read(from: &reader)
            default: try reader.skipValue()
            }
        }
        self.routeKey = try routeKey.required()
        self.eventType = try eventType.required()
        self.connectionId = try connectionId.required()
        self.messageId = messageId.optional()
        self.messageDirection = messageDirection.optional()
        self.domainName = domainName.optional()
        self.stage = stage.optional()
        self.apiId = apiId.optional()
        self.requestId = requestId.optional()
        self.extendedRequestId = extendedRequestId.optional()
        self.requestTime = requestTime.optional()
        self.requestTimeEpoch = requestTimeEpoch.optional()
        self.connectedAt = connectedAt.optional()
        self.identity = identity.optional()
        self.disconnectStatusCode = disconnectStatusCode.optional()
        self.disconnectReason = disconnectReason.optional()
        self.authorizer = authorizer.optional()
    }
}

extension WebSocketEvent.RequestContext.Identity: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var sourceIp = JSONField<String?>(), userAgent = JSONField<String?>()
        try reader.readFields { reader, key throws(JSONReader.Declined) in
            switch key {
            case "sourceIp": try sourceIp.read(from: &reader)
            case "userAgent": try userAgent.read(from: &reader)
            default: try reader.skipValue()
            }
        }
        self.sourceIp = sourceIp.optional()
        self.userAgent = userAgent.optional()
    }
}
