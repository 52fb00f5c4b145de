// The fields of `WebSocketEvent` and `WebSocketResponse`, and their JSON coding, are generated
// from Envelopes.schema.json into WebSocketEvent.generated.swift; what the functions ask of an
// event beyond its fields is here.

extension WebSocketEvent {
    public enum EventType: String, Codable, Sendable { case connect = "CONNECT", message = "MESSAGE", disconnect = "DISCONNECT" }

    public var headerFields: HeaderFields { HeaderFields(headers) }

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

extension WebSocketEvent.EventType: JSONValueDecodable, JSONValueEncodable, JSONReadable {}
