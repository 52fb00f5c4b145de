/// A web origin normalised for comparison (SPEC §4.2): lower-case scheme and host, the port only
/// when it is not the scheme's default, no path, no trailing slash.
///
/// Parsing is deliberately strict. Anything a browser would not send as an Origin — userinfo
/// (`https://customer.com@evil.net`), non-ASCII hosts (browsers send punycode), other schemes,
/// `null` — is rejected, and a rejected origin is never allowed.
public struct Origin: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?

    public init?(_ raw: String) {
        let text = raw.trimmed()
        guard let schemeEnd = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = text[schemeEnd.upperBound...]
        if let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            rest = rest[..<pathStart]
        }
        guard !rest.isEmpty, !rest.contains("@"), !rest.contains("\\") else { return nil }
        var hostPart = Substring(rest)
        var port: Int?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            let after = hostPart[hostPart.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()), (1...65535).contains(value) else { return nil }
                port = value
            }
            hostPart = hostPart[...close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let value = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
            hostPart = hostPart[..<colon]
        }
        var host = hostPart.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        guard Origin.isValidHost(host) else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        self.scheme = scheme
        self.host = host
        self.port = port == defaultPort ? nil : port
    }

    /// `scheme://host[:port]`, the form browsers send and CORS headers echo.
    public var description: String {
        port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    static func isValidHost(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        if host.hasPrefix("[") {
            return host.hasSuffix("]") && host.utf8.dropFirst().dropLast().allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

/// A widget's allowed domain, e.g. `customer.com`: it admits that host and its true subdomains.
public struct AllowedDomain: Sendable, Hashable, CustomStringConvertible {
    public let host: String

    /// Accepts `customer.com`, `*.customer.com`, `https://customer.com/` and mixed case; nil when
    /// no valid host remains.
    public init?(_ raw: String) {
        var text = raw.trimmed().lowercased()
        if text.contains("://") {
            guard let origin = Origin(text) else { return nil }
            text = origin.host
        }
        if text.hasPrefix("*.") { text.removeFirst(2) }
        if text.hasSuffix(".") { text.removeLast() }
        guard Origin.isValidHost(text), !text.hasPrefix("[") || text.hasSuffix("]") else { return nil }
        host = text
    }

    public var description: String { host }

    /// Exact match, or `host` ends in `.` + this domain: `app.customer.com` matches `customer.com`,
    /// `evilcustomer.com` and `customer.com.evil.net` do not.
    public func matches(_ candidate: String) -> Bool {
        candidate == host || candidate.hasSuffix("." + host)
    }

    /// The host and each parent domain of it, most specific first — the keys an index of allowed
    /// domains is searched by.
    public static func candidates(for host: String) -> [String] {
        if host.hasPrefix("[") { return [host] }
        let labels = host.split(separator: ".")
        return labels.indices.map { labels[$0...].joined(separator: ".") }
    }
}
