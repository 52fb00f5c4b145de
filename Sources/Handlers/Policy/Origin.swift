/// A web origin normalised for comparison (README, “Security model”): lower-case scheme and host,
/// the port only when it is not the scheme's default, no path, no trailing slash.
///
/// Parsing is deliberately strict. Anything a browser would not send as an Origin — userinfo
/// (`https://customer.com@evil.net`), non-ASCII hosts (browsers send punycode), other schemes,
/// `null` — is rejected, and a rejected origin is never allowed.
public struct Origin: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?

    public init?(_ raw: String) {
        switch Self.parseASCII(raw) {
        case .parsed(let origin): self = origin
        case .refused: return nil
        case .notASCII:
            guard let origin = Self.parseCharacters(raw) else { return nil }
            self = origin
        }
    }

    private init(scheme: String, host: String, port: Int?) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// What `parseASCII` made of a text.
    enum ASCIIParse {
        case parsed(Origin)
        case refused
        /// The text is not (contiguous) ASCII: only `parseCharacters` reads it.
        case notASCII
    }

    /// `parseCharacters` over the UTF-8 bytes of an ASCII text, giving the same answer for every
    /// ASCII text (in ASCII, case and white space are per byte, and the only multi-scalar character,
    /// CR LF, is white space to the trim and invalid in a host either way): every chat request parses
    /// its Origin, and the `Character` walk was most of the cost of admitting a message.
    static func parseASCII(_ raw: String) -> ASCIIParse {
        raw.utf8.withContiguousStorageIfAvailable { bytes -> ASCIIParse in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return .notASCII }
            var lower = 0, upper = bytes.count
            while lower < upper, bytes[lower].isASCIIWhitespace { lower += 1 }
            while upper > lower, bytes[upper - 1].isASCIIWhitespace { upper -= 1 }
            // The first "://".
            var separator = lower
            while separator + 3 <= upper,
                  !(bytes[separator] == UInt8(ascii: ":") && bytes[separator + 1] == UInt8(ascii: "/") && bytes[separator + 2] == UInt8(ascii: "/")) {
                separator += 1
            }
            guard separator + 3 <= upper else { return .refused }
            let scheme: String
            switch separator - lower {
            case 4 where Self.equalLowercased(bytes, lower, "http"): scheme = "http"
            case 5 where Self.equalLowercased(bytes, lower, "https"): scheme = "https"
            default: return .refused
            }
            let start = separator + 3
            var end = start
            while end < upper, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") { end += 1 }
            guard start < end, !bytes[start..<end].contains(UInt8(ascii: "@")), !bytes[start..<end].contains(UInt8(ascii: "\\")) else {
                return .refused
            }
            var hostEnd = end
            var port: Int?
            func portNumber(_ range: Range<Int>) -> Int? {
                // `Int` reads the digits exactly as it reads the `Substring` of the `Character` walk.
                Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)).flatMap { (1...65535).contains($0) ? $0 : nil }
            }
            if bytes[start] == UInt8(ascii: "[") {
                guard let close = bytes[start..<end].firstIndex(of: UInt8(ascii: "]")) else { return .refused }
                if close + 1 < end {
                    guard bytes[close + 1] == UInt8(ascii: ":"), let value = portNumber((close + 2)..<end) else { return .refused }
                    port = value
                }
                hostEnd = close + 1
            } else if let colon = bytes[start..<end].lastIndex(of: UInt8(ascii: ":")) {
                guard let value = portNumber((colon + 1)..<end) else { return .refused }
                port = value
                hostEnd = colon
            }
            if hostEnd > start, bytes[hostEnd - 1] == UInt8(ascii: ".") { hostEnd -= 1 }
            let host = String(unsafeUninitializedCapacity: hostEnd - start) { buffer in
                for offset in start..<hostEnd {
                    let byte = bytes[offset]
                    buffer[offset - start] = byte.isASCIIUppercaseLetter ? byte | 0x20 : byte
                }
                return hostEnd - start
            }
            guard Origin.isValidHost(host) else { return .refused }
            let defaultPort = scheme == "https" ? 443 : 80
            return .parsed(Origin(scheme: scheme, host: host, port: port == defaultPort ? nil : port))
        } ?? .notASCII
    }

    /// Whether the bytes from `start` are `word` (lower-case ASCII) once lower-cased.
    private static func equalLowercased(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - start >= count else { return false }
        for offset in 0..<count {
            let byte = bytes[start + offset]
            if (byte.isASCIIUppercaseLetter ? byte | 0x20 : byte) != word.utf8Start[offset] { return false }
        }
        return true
    }

    /// The origin in `raw`, walked `Character` by `Character`: the reference for any text.
    static func parseCharacters(_ raw: String) -> Origin? {
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
        return Origin(scheme: scheme, host: host, port: port == defaultPort ? nil : port)
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
        // Labels cut at dot bytes: where that differs from cutting at dot `Character`s (a dot with a
        // combining mark) there is a non-ASCII byte, which fails the label either way.
        return host.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

/// A widget's allowed domain (README, “Security model”): a host name a customer controls,
/// admitting that host and its true subdomains; or an IP address or `localhost`, admitting exactly
/// that host.
///
/// Entries that would admit sites of strangers are refused: wildcards (`*.customer.com`;
/// `customer.com` admits its subdomains anyway), single labels (`com`), public suffixes (`co.uk`,
/// `github.io`, where anyone can register a site) and names above one (`amazonaws.com`, above
/// `s3.amazonaws.com`). Stored entries are read by the same rules, so an entry stored before them
/// admits nothing and is left out of the stores' domain index.
public struct AllowedDomain: Sendable, Hashable, CustomStringConvertible {
    /// What an entry admits.
    public enum Kind: Sendable, Hashable {
        /// A host name below a public suffix: the host and its true subdomains.
        case domain
        /// An IPv4 address, or an IPv6 address in brackets as origins write it: that host only.
        case ipAddress
        /// `localhost`, the one single label allowed (the local demo widget's): that host only.
        case localhost
    }

    /// Why a text is not an allowed domain, worded to follow the entry it refuses.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notAHost
        case wildcard
        case singleLabel
        /// Ends in a number (an IPv4 address to a browser) without being a dotted quad.
        case numericName
        case publicSuffix
        /// Has the public suffix below it, e.g. `amazonaws.com` with `s3.amazonaws.com`.
        case abovePublicSuffix(String)

        public var description: String {
            switch self {
            case .notAHost: "is not a host name or an IP address (e.g. customer.com, app.customer.com, 10.0.0.5)"
            case .wildcard: "is a wildcard: name the domain itself (customer.com), which admits its subdomains"
            case .singleLabel: "is a single label, which would admit every site under it: name a domain (customer.com); localhost is the one exception"
            case .numericName: "ends in a number, which browsers read as an IPv4 address: write an address as four decimal numbers (10.0.0.5)"
            case .publicSuffix: "is a public suffix, under which anyone can register a site: name your own domain under it (customer.co.uk)"
            case .abovePublicSuffix(let suffix):
                "holds the public suffix \(suffix), under which anyone can register a site: name your own domain under it"
            }
        }
    }

    public let host: String
    public let kind: Kind

    /// Accepts `customer.com`, `https://customer.com/` (the origin's host), mixed case and a trailing
    /// dot, `10.0.0.5`, `::1` or `[::1]`; nil for anything `parse` refuses.
    public init?(_ raw: String) {
        guard case .success(let domain) = Self.parse(raw) else { return nil }
        self = domain
    }

    private init(host: String, kind: Kind) {
        self.host = host
        self.kind = kind
    }

    /// The entry in `raw`, normalised — lower case, no trailing dot, an origin's host, an IPv6 address
    /// as browsers write it, in brackets — or why it is refused.
    public static func parse(_ raw: String) -> Result<AllowedDomain, Refusal> {
        var text = raw.trimmed().lowercased()
        // `contains("://")` over the bytes: the `String` search was half the cost of this check,
        // which runs for every allowed domain of a widget on every request.
        if Self.containsSchemeSeparator(text) {
            guard let origin = Origin(text) else { return .failure(.notAHost) }
            text = origin.host
        }
        if text.utf8.contains(UInt8(ascii: "*")) { return .failure(.wildcard) }
        if text.hasSuffix(".") { text.removeLast() }
        if text.hasPrefix("[") || text.utf8.contains(UInt8(ascii: ":")) {
            let address = text.hasPrefix("[") && text.hasSuffix("]") && text.utf8.count >= 2 ? text.dropFirst().dropLast() : Substring(text)
            guard let canonical = IPAddressText.canonicalIPv6(address) else { return .failure(.notAHost) }
            return .success(AllowedDomain(host: "[\(canonical)]", kind: .ipAddress))
        }
        guard Origin.isValidHost(text) else { return .failure(.notAHost) }
        if IPAddressText.endsInNumber(text) {
            return IPAddressText.isDottedQuad(text) ? .success(AllowedDomain(host: text, kind: .ipAddress)) : .failure(.numericName)
        }
        guard text.utf8.contains(UInt8(ascii: ".")) else {
            return text == "localhost" ? .success(AllowedDomain(host: text, kind: .localhost)) : .failure(.singleLabel)
        }
        if PublicSuffixes.contains(text) { return .failure(.publicSuffix) }
        if let suffix = PublicSuffixes.below(text) { return .failure(.abovePublicSuffix(suffix)) }
        return .success(AllowedDomain(host: text, kind: .domain))
    }

    public var description: String { host }

    /// Whether the bytes `://` occur in `text`.
    static func containsSchemeSeparator(_ text: String) -> Bool {
        var previous: (UInt8, UInt8) = (0, 0)
        for byte in text.utf8 {
            if byte == UInt8(ascii: "/"), previous == (UInt8(ascii: ":"), UInt8(ascii: "/")) { return true }
            previous = (previous.1, byte)
        }
        return false
    }

    /// Exact match, or — for a `.domain` only — `candidate` ends in `.` + this domain: `app.customer.com`
    /// matches `customer.com`, `evilcustomer.com` and `customer.com.evil.net` do not, nor does
    /// `evil.127.0.0.1` match `127.0.0.1`. No host that is an IP address matches a `.domain` but
    /// exactly: its last label would be the domain's, which is not a number.
    public func matches(_ candidate: String) -> Bool {
        candidate == host || (kind == .domain && candidate.hasSuffix("." + host))
    }

    /// The entries that would admit `host`, most specific first — the keys an index of allowed
    /// domains is searched by: the host itself when it is a valid entry as spelled, then each parent
    /// domain that is a `.domain` entry. Never a public suffix or a name above one, never a single
    /// label but the host `localhost` itself; an IP address (or what a browser reads as one) has no
    /// parents. So the index is searched for exactly the entries `matches` would admit `host` by.
    public static func candidates(for host: String) -> [String] {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let isAddress = host.hasPrefix("[") || IPAddressText.endsInNumber(host)
        return (isAddress ? [labels.startIndex] : Array(labels.indices)).compactMap { start in
            let name = labels[start...].joined(separator: ".")
            guard case .success(let entry) = parse(name), entry.host == name, start == labels.startIndex || entry.kind == .domain else {
                return nil
            }
            return name
        }
    }
}
