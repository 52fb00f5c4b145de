/// The SigV4 canonical form of a request, for services other than S3: the path is normalised and
/// each segment URI-encoded a second time, the query is decoded, re-encoded and sorted, and the
/// headers are lower-cased, trimmed and sorted.
struct CanonicalRequest {
    /// Headers that proxies and HTTP clients add or rewrite in transit; signing them would break the
    /// signature. The same list as botocore's, so that both sign the same headers.
    static let unsignedHeaders: Set<String> = [
        "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    let text: String
    let signedHeaders: String

    init(_ request: SignableRequest, host: String, path: String, query: String?, payloadHash: String) {
        var fields: [String: [String]] = [:]
        for (name, value) in request.headers {
            let name = name.lowercased()
            guard !Self.unsignedHeaders.contains(name) else { continue }
            fields[name, default: []].append(Self.trimAll(value))
        }
        if fields["host"] == nil { fields["host"] = [host] }
        let names = fields.keys.sorted(by: Self.byteOrder)
        signedHeaders = names.joined(separator: ";")
        text = [
            request.method.uppercased(),
            Self.canonicalPath(path),
            Self.canonicalQuery(query),
            names.map { "\($0):\(fields[$0, default: []].joined(separator: ","))\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
    }

    /// Removes `.` and `..` segments and empty segments, then encodes the already-encoded path again:
    /// `/a b` arrives as `/a%20b` and is signed as `/a%2520b`.
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                _ = segments.popLast()
            } else {
                segments.append(segment)
            }
        }
        var normalized = path.hasPrefix("/") ? "/" : ""
        normalized += segments.joined(separator: "/")
        if path.hasSuffix("/"), !segments.isEmpty { normalized += "/" }
        return PercentEncoding.encode(normalized.utf8, keepingSlash: true)
    }

    /// Each `name=value` pair decoded from the URL, re-encoded with RFC 3986's unreserved set and
    /// sorted by name, then value; a name without `=` gets an empty value.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? parts[1] : ""
            return (PercentEncoding.encode(PercentEncoding.decode(parts[0])), PercentEncoding.encode(PercentEncoding.decode(value)))
        }
        return pairs
            .sorted { $0.0 == $1.0 ? byteOrder($0.1, $1.1) : byteOrder($0.0, $1.0) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// SigV4's Trimall: no leading or trailing white space, and each inner run of it as one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Sorting by code point, as SigV4 requires, not by Swift's Unicode-aware string order.
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

/// Lower-case hex digits of `bytes`, as SigV4 writes hashes and signatures.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}
