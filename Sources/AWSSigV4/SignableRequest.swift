/// An HTTP request as the signer sees it: plain values, so that any HTTP client can be signed for
/// by copying its method, URL, headers and body in and the signed headers back out.
public struct SignableRequest: Sendable {
    public var method: String
    /// The absolute URL exactly as it goes on the wire: path and query already percent-encoded.
    public var url: String
    /// Header fields in order; names are case-insensitive and may repeat.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The values of the header `name`, in order, compared case-insensitively.
    public func values(of name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// Replaces every field named `name` by one field with `value`.
    mutating func set(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name: name, value: value))
    }
}
