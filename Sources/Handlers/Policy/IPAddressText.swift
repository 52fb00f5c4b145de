/// IP addresses as text, as browsers read them in a URL's host (WHATWG URL): what `allowed_domains`
/// entries and origins are compared by.
enum IPAddressText {
    /// Whether the last label of `host` is a number (decimal, or `0x` and hex digits), which makes the
    /// host an IPv4 address to a browser — `http://x.10.0.0.5` is no name under `10.0.0.5` — or
    /// invalid; never a domain name.
    static func endsInNumber(_ host: String) -> Bool {
        let utf8 = host.utf8
        let start = utf8.lastIndex(of: UInt8(ascii: ".")).map { utf8.index(after: $0) } ?? utf8.startIndex
        let last = utf8[start...]
        if !last.isEmpty, last.allSatisfy(\.isASCIIDigit) { return true }
        return last.starts(with: "0x".utf8) && last.dropFirst(2).allSatisfy(isHexDigit)
    }

    /// Whether `text` is an IPv4 address as browsers write it: four decimal numbers from 0 to 255,
    /// without leading zeros (`127.1` and `010.0.0.5` are read otherwise, and never sent).
    static func isDottedQuad(_ text: some StringProtocol) -> Bool {
        ipv4Octets(text) != nil
    }

    /// The four octets of `text` when it is a dotted quad as `isDottedQuad` reads it, else nil.
    static func ipv4Octets(_ text: some StringProtocol) -> [UInt8]? {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit), part.count == 1 || part.first != UInt8(ascii: "0") else {
                return nil
            }
            let value = part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 255 else { return nil }
            octets.append(UInt8(value))
        }
        return octets
    }

    /// The IPv6 address in `text` (RFC 4291: hex pieces, at most one `::`, optionally a dotted-quad
    /// tail; no brackets, no zone) as browsers write it: lower-case hex without leading zeros, the
    /// first longest run of two or more zero pieces as `::`, no dotted tail. nil when `text` is none.
    static func canonicalIPv6(_ text: some StringProtocol) -> String? {
        guard let pieces = ipv6Pieces(Substring(text)) else { return nil }
        var compress: Int?
        var longest = 1
        var index = 0
        while index < 8 {
            var end = index
            while end < 8, pieces[end] == 0 { end += 1 }
            if end - index > longest {
                compress = index
                longest = end - index
            }
            index = max(end, index + 1)
        }
        var output = ""
        var piece = 0
        while piece < 8 {
            if piece == compress {
                output += piece == 0 ? "::" : ":"
                piece += longest
                continue
            }
            output += String(pieces[piece], radix: 16)
            if piece != 7 { output += ":" }
            piece += 1
        }
        return output
    }

    /// The eight 16-bit pieces of the IPv6 address in `text` (hex digits in either case), or nil.
    static func ipv6Pieces(_ text: Substring) -> [UInt16]? {
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        func pieces(_ part: Substring, dottedTail: Bool) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (position, field) in fields.enumerated() {
                if dottedTail, position == fields.count - 1, field.utf8.contains(UInt8(ascii: ".")) {
                    guard let octets = ipv4Octets(field) else { return nil }
                    result += [UInt16(octets[0]) << 8 | UInt16(octets[1]), UInt16(octets[2]) << 8 | UInt16(octets[3])]
                } else {
                    guard (1...4).contains(field.utf8.count), field.utf8.allSatisfy(isHexDigit), let value = UInt16(field, radix: 16) else {
                        return nil
                    }
                    result.append(value)
                }
            }
            return result
        }
        if halves.count == 1 {
            guard let all = pieces(halves[0], dottedTail: true), all.count == 8 else { return nil }
            return all
        }
        guard let head = pieces(halves[0], dottedTail: false), let tail = pieces(halves[1], dottedTail: true),
              head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        byte.isASCIIDigit || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }
}
