/// One view of an HTTP request whichever API Gateway payload format carried it.
///
/// The `chat` and `admin` functions are reachable through an HTTP API (2.0) and, for users who deploy
/// them behind a REST API, through proxy payload 1.0. Decoding detects the format from the event and
/// the response is encoded back in the same format.
public struct HTTPRouteRequest: Sendable, Equatable {
    public enum PayloadFormat: String, Sendable, Equatable { case v1 = "1.0", v2 = "2.0" }

    public var format: PayloadFormat
    public var method: String
    public var path: String
    public var headers: HeaderFields
    public var queryParameters: [String: String]
    public var pathParameters: [String: String]
    public var sourceIp: String
    public var userAgent: String?
    public var requestId: String
    /// When API Gateway received the request (`timeEpoch` / `requestTimeEpoch`), in milliseconds.
    public var timeEpochMillis: Int64?
    public var body: String?
    public var isBase64Encoded: Bool

    public init(
        format: PayloadFormat = .v2, method: String, path: String, headers: HeaderFields = HeaderFields(),
        queryParameters: [String: String] = [:], pathParameters: [String: String] = [:],
        sourceIp: String = "127.0.0.1", userAgent: String? = nil, requestId: String = "local",
        timeEpochMillis: Int64? = nil, body: String? = nil, isBase64Encoded: Bool = false
    ) {
        self.format = format
        self.method = method
        self.path = path
        self.headers = headers
        self.queryParameters = queryParameters
        self.pathParameters = pathParameters
        self.sourceIp = sourceIp
        self.userAgent = userAgent
        self.requestId = requestId
        self.timeEpochMillis = timeEpochMillis
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }

    public init(_ event: APIGatewayV2Request) {
        let context = event.requestContext
        let headers = HeaderFields(event.headers)
        self.init(
            format: .v2,
            method: context.http.method.uppercased(),
            path: event.rawPath ?? context.http.path ?? "/",
            headers: headers,
            queryParameters: event.queryStringParameters ?? [:],
            pathParameters: event.pathParameters ?? [:],
            sourceIp: context.http.sourceIp ?? "0.0.0.0",
            userAgent: context.http.userAgent ?? headers["user-agent"],
            requestId: context.requestId ?? "unknown",
            timeEpochMillis: context.timeEpoch,
            body: event.body,
            isBase64Encoded: event.isBase64Encoded ?? false
        )
    }

    public init(_ event: APIGatewayRequest) {
        var headers = HeaderFields(event.headers)
        for (name, values) in (event.multiValueHeaders ?? [:]).sorted(by: { $0.key < $1.key })
        where headers[name] == nil {
            if let first = values.first { headers.set(name, first) }
        }
        var query = event.queryStringParameters ?? [:]
        for (name, values) in event.multiValueQueryStringParameters ?? [:] where query[name] == nil {
            query[name] = values.last
        }
        let identity = event.requestContext?.identity
        self.init(
            format: .v1,
            method: event.httpMethod.uppercased(),
            path: event.path ?? event.requestContext?.path ?? "/",
            headers: headers,
            queryParameters: query,
            pathParameters: event.pathParameters ?? [:],
            sourceIp: identity?.sourceIp ?? "0.0.0.0",
            userAgent: identity?.userAgent ?? headers["user-agent"],
            requestId: event.requestContext?.requestId ?? "unknown",
            timeEpochMillis: event.requestContext?.requestTimeEpoch,
            body: event.body,
            isBase64Encoded: event.isBase64Encoded ?? false
        )
    }

    /// The request body as bytes, refused above `limit`.
    public func bodyBytes(limit: Int) throws(BodyError) -> [UInt8] {
        try EventBody.bytes(body, isBase64Encoded: isBase64Encoded, limit: limit)
    }
}

extension HTTPRouteRequest: Decodable, JSONValueDecodable {
    private enum FormatKeys: String, CodingKey { case version, httpMethod }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: FormatKeys.self)
        if keys.contains(.httpMethod), (try? keys.decode(String.self, forKey: .version)) != "2.0" {
            self.init(try APIGatewayRequest(from: decoder))
        } else {
            self.init(try APIGatewayV2Request(from: decoder))
        }
    }

    public init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        if fields.contains("httpMethod"), fields.members["version"]?.stringValue != "2.0" {
            self.init(try APIGatewayRequest(json: json))
        } else {
            self.init(try APIGatewayV2Request(json: json))
        }
    }
}

/// A handler's HTTP answer, encoded in the payload format of the request it answers.
public struct HTTPRouteResponse: Sendable, Equatable {
    public var statusCode: Int
    public var headers: HeaderFields
    public var body: String
    public var format: HTTPRouteRequest.PayloadFormat

    public init(statusCode: Int, headers: HeaderFields = HeaderFields(), body: String = "", format: HTTPRouteRequest.PayloadFormat = .v2) {
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
        self.format = format
    }
}

extension HTTPRouteResponse: Encodable, JSONBytesEncodable {
    /// The response as the proxy envelope of its payload format (`jsonBytes` writes the same bytes).
    public func encode(to encoder: any Encoder) throws {
        let headers = headers.dictionary
        switch format {
        case .v2:
            try APIGatewayV2Response(statusCode: statusCode, headers: headers, body: body, isBase64Encoded: false).encode(to: encoder)
        case .v1:
            try APIGatewayResponse(statusCode: statusCode, headers: headers, multiValueHeaders: headers.mapValues { [$0] },
                                   body: body, isBase64Encoded: false).encode(to: encoder)
        }
    }
}

extension HTTPRouteResponse {
    /// The proxy envelope of the payload format, written member by member: every `chat` and `admin`
    /// invocation returns one, and the tree of dictionaries cost more than writing its bytes.
    public var jsonBytes: [UInt8] {
        // One value per name, later values winning, in the writer's key order (ascending UTF-8 bytes).
        let headers = headers.dictionary.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var writer = JSONValueWriter()
        writer.bytes.reserveCapacity(body.utf8.count + 80 + headers.count * (format == .v1 ? 96 : 48))
        var object = JSONObjectWriter(in: &writer)
        object.key("body", in: &writer)
        writer.write(string: body)
        object.key("headers", in: &writer)
        Self.write(headers, in: &writer) { writer, value in writer.write(string: value) }
        object.key("isBase64Encoded", in: &writer)
        writer.write(.bool(false))
        if format == .v1 {
            object.key("multiValueHeaders", in: &writer)
            Self.write(headers, in: &writer) { writer, value in
                writer.bytes.append(UInt8(ascii: "["))
                writer.write(string: value)
                writer.bytes.append(UInt8(ascii: "]"))
            }
        }
        object.key("statusCode", in: &writer)
        writer.write(.number(Double(statusCode)))
        object.end(in: &writer)
        return writer.bytes
    }

    /// An object of the sorted `headers`, each value written by `value`.
    private static func write(_ headers: [(key: String, value: String)], in writer: inout JSONValueWriter,
                              value: (inout JSONValueWriter, String) -> Void) {
        var object = JSONObjectWriter(in: &writer)
        for header in headers {
            object.key(header.key, in: &writer)
            value(&writer, header.value)
        }
        object.end(in: &writer)
    }
}

/// Payload 2.0 is read directly; an event the reader declines (payload 1.0 among them) goes through
/// the tree, which tells the formats apart.
extension HTTPRouteRequest: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Declined) {
        self.init(try APIGatewayV2Request(reading: &reader))
    }
}
