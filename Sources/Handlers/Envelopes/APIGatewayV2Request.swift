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

extension APIGatewayV2Request: JSONValueDecodable, JSONValueEncodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        version = try fields.decode("version")
        routeKey = try fields.decodeIfPresent("routeKey")
        rawPath = try fields.decodeIfPresent("rawPath")
        rawQueryString = try fields.decodeIfPresent("rawQueryString")
        cookies = try fields.decodeIfPresent("cookies")
        headers = try fields.decodeIfPresent("headers")
        queryStringParameters = try fields.decodeIfPresent("queryStringParameters")
        pathParameters = try fields.decodeIfPresent("pathParameters")
        stageVariables = try fields.decodeIfPresent("stageVariables")
        requestContext = try fields.decode("requestContext")
        body = try fields.decodeIfPresent("body")
        isBase64Encoded = try fields.decodeIfPresent("isBase64Encoded")
    }

    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["version": .string(version), "requestContext": requestContext.jsonValue]
        object.set("routeKey", routeKey)
        object.set("rawPath", rawPath)
        object.set("rawQueryString", rawQueryString)
        object.set("cookies", cookies)
        object.set("headers", headers)
        object.set("queryStringParameters", queryStringParameters)
        object.set("pathParameters", pathParameters)
        object.set("stageVariables", stageVariables)
        object.set("body", body)
        object.set("isBase64Encoded", isBase64Encoded)
        return .object(object)
    }
}

extension APIGatewayV2Request.RequestContext: JSONValueDecodable, JSONValueEncodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        accountId = try fields.decodeIfPresent("accountId")
        apiId = try fields.decodeIfPresent("apiId")
        domainName = try fields.decodeIfPresent("domainName")
        domainPrefix = try fields.decodeIfPresent("domainPrefix")
        http = try fields.decode("http")
        requestId = try fields.decodeIfPresent("requestId")
        routeKey = try fields.decodeIfPresent("routeKey")
        stage = try fields.decodeIfPresent("stage")
        time = try fields.decodeIfPresent("time")
        timeEpoch = try fields.decodeIfPresent("timeEpoch")
    }

    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["http": http.jsonValue]
        object.set("accountId", accountId)
        object.set("apiId", apiId)
        object.set("domainName", domainName)
        object.set("domainPrefix", domainPrefix)
        object.set("requestId", requestId)
        object.set("routeKey", routeKey)
        object.set("stage", stage)
        object.set("time", time)
        object.set("timeEpoch", timeEpoch)
        return .object(object)
    }
}

extension APIGatewayV2Request.RequestContext.HTTP: JSONValueDecodable, JSONValueEncodable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        method = try fields.decode("method")
        path = try fields.decodeIfPresent("path")
        `protocol` = try fields.decodeIfPresent("protocol")
        sourceIp = try fields.decodeIfPresent("sourceIp")
        userAgent = try fields.decodeIfPresent("userAgent")
    }

    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["method": .string(method)]
        object.set("path", path)
        object.set("protocol", `protocol`)
        object.set("sourceIp", sourceIp)
        object.set("userAgent", userAgent)
        return .object(object)
    }
}

extension APIGatewayV2Response: JSONValueEncodable {
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["statusCode": statusCode.jsonValue]
        object.set("headers", headers)
        object.set("multiValueHeaders", multiValueHeaders)
        object.set("cookies", cookies)
        object.set("body", body)
        object.set("isBase64Encoded", isBase64Encoded)
        return .object(object)
    }
}

extension APIGatewayV2Request: JSONReadable {
    /// Declines an event with `httpMethod` and a version other than "2.0" too: `HTTPRequest` reads
    /// that as payload 1.0, which the tree decodes.
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var version = JSONField<String>(), routeKey = JSONField<String?>(), rawPath = JSONField<String?>()
        var rawQueryString = JSONField<String?>(), cookies = JSONField<[String]?>(), headers = JSONField<[String: String]?>()
        var queryStringParameters = JSONField<[String: String]?>(), pathParameters = JSONField<[String: String]?>()
        var stageVariables = JSONField<[String: String]?>(), requestContext = JSONField<RequestContext>()
        var body = JSONField<String?>(), isBase64Encoded = JSONField<Bool?>()
        var hasHTTPMethod = false
        try reader.readFields { reader, key throws(JSONReader.Declined) in
            switch key {
            case "version": try version.read(from: &reader)
            case "routeKey": try routeKey.read(from: &reader)
            case "rawPath": try rawPath.read(from: &reader)
            case "rawQueryString": try rawQueryString.read(from: &reader)
            case "cookies": try cookies.read(from: &reader)
            case "headers": try headers.read(from: &reader)
            case "queryStringParameters": try queryStringParameters.read(from: &reader)
            case "pathParameters": try pathParameters.read(from: &reader)
            case "stageVariables": try stageVariables.read(from: &reader)
            case "requestContext": try requestContext.read(from: &reader)
            case "body": try body.read(from: &reader)
            case "isBase64Encoded": try isBase64Encoded.read(from: &reader)
            case "httpMethod":
                hasHTTPMethod = true
                try reader.skipValue()
            default: try reader.skipValue()
            }
        }
        self.version = try version.required()
        guard !hasHTTPMethod || self.version == "2.0" else { throw JSONReader.Declined() }
        self.routeKey = routeKey.optional()
        self.rawPath = rawPath.optional()
        self.rawQueryString = rawQueryString.optional()
        self.cookies = cookies.optional()
        self.headers = headers.optional()
        self.queryStringParameters = queryStringParameters.optional()
        self.pathParameters = pathParameters.optional()
        self.stageVariables = stageVariables.optional()
        self.requestContext = try requestContext.required()
        self.body = body.optional()
        self.isBase64Encoded = isBase64Encoded.optional()
    }
}

extension APIGatewayV2Request.RequestContext: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var accountId = JSONField<String?>(), apiId = JSONField<String?>(), domainName = JSONField<String?>()
        var domainPrefix = JSONField<String?>(), http = JSONField<HTTP>(), requestId = JSONField<String?>()
        var routeKey = JSONField<String?>(), stage = JSONField<String?>(), time = JSONField<String?>()
        var timeEpoch = JSONField<Int64?>()
        try reader.readFields { reader, key throws(JSONReader.Declined) in
            switch key {
            case "accountId": try accountId.read(from: &reader)
            case "apiId": try apiId.read(from: &reader)
            case "domainName": try domainName.read(from: &reader)
            case "domainPrefix": try domainPrefix.read(from: &reader)
            case "http": try http.read(from: &reader)
            case "requestId": try requestId.read(from: &reader)
            case "routeKey": try routeKey.read(from: &reader)
            case "stage": try stage.read(from: &reader)
            case "time": try time.read(from: &reader)
            case "timeEpoch": try timeEpoch.read(from: &reader)
            default: try reader.skipValue()
            }
        }
        self.accountId = accountId.optional()
        self.apiId = apiId.optional()
        self.domainName = domainName.optional()
        self.domainPrefix = domainPrefix.optional()
        self.http = try http.required()
        self.requestId = requestId.optional()
        self.routeKey = routeKey.optional()
        self.stage = stage.optional()
        self.time = time.optional()
        self.timeEpoch = timeEpoch.optional()
    }
}

extension APIGatewayV2Request.RequestContext.HTTP: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        var method = JSONField<String>(), path = JSONField<String?>(), `protocol` = JSONField<String?>()
        var sourceIp = JSONField<String?>(), userAgent = JSONField<String?>()
        try reader.readFields { reader, key throws(JSONReader.Declined) in
            switch key {
            case "method": try method.read(from: &reader)
            case "path": try path.read(from: &reader)
            case "protocol": try `protocol`.read(from: &reader)
            case "sourceIp": try sourceIp.read(from: &reader)
            case "userAgent": try userAgent.read(from: &reader)
            default: try reader.skipValue()
            }
        }
        self.method = try method.required()
        self.path = path.optional()
        self.protocol = `protocol`.optional()
        self.sourceIp = sourceIp.optional()
        self.userAgent = userAgent.optional()
    }
}
