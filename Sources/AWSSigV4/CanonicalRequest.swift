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
        return uriEncode(Array(normalized.utf8), keepingSlash: true)
    }

    /// Each `name=value` pair decoded from the URL, re-encoded with RFC 3986's unreserved set and
    /// sorted by name, then value; a name without `=` gets an empty value.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? parts[1] : ""
            return (uriEncode(percentDecode(parts[0]), keepingSlash: false), uriEncode(percentDecode(value), keepingSlash: false))
        }
        return pairs
            .sorted { $0.0 == $1.0 ? byteOrder($0.1, $1.1) : byteOrder($0.0, $1.0) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Percent-encodes every byte outside RFC 3986's unreserved set, in upper-case hex.
    static func uriEncode(_ bytes: [UInt8], keepingSlash: Bool) -> String {
        var encoded = ""
        encoded.reserveCapacity(bytes.count)
        for byte in bytes {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + hex([byte]).uppercased()
            }
        }
        return encoded
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
    static func percentDecode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return decoded
    }

    /// SigV4's Trimall: no leading or trailing white space, and each inner run of it as one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Sorting by code point, as SigV4 requires, not by Swift's Unicode-aware string order.
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
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
