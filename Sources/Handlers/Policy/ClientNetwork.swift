/// The network a client's limits, warnings and blocks are keyed by: its IPv4 address, or the /64 of
/// its IPv6 address. One IPv6 subscriber is routinely given a whole /64, so keying by the address
/// would give a client 2⁶⁴ fresh sets of limits; and one address has many spellings (`2001:DB8::1`,
/// `2001:0db8:0:0::1`, `::ffff:10.0.0.1` for `10.0.0.1`), which must all be one key.
public struct ClientNetwork: Sendable, Equatable, CustomStringConvertible {
    /// `10.0.0.1`, `2001:db8:1:2::/64`, or for what is no IP address (a fixture's placeholder), a
    /// short hash of it prefixed with `h`.
    public let description: String

    public init(sourceIp: String) {
        if let v4 = Self.ipv4(sourceIp[...]) {
            description = Self.format(v4)
        } else if let v6 = Self.ipv6(sourceIp) {
            if v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xff && v6[11] == 0xff {
                description = Self.format(Array(v6[12..<16]))
            } else {
                let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(v6[$0]) << 8 | UInt16(v6[$0 + 1]), radix: 16) }
                description = groups.joined(separator: ":") + "::/64"
            }
        } else {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in sourceIp.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            description = "h" + String(hash, radix: 16)
        }
    }

    private static func format(_ bytes: [UInt8]) -> String {
        bytes.map { String($0) }.joined(separator: ".")
    }

    /// Four decimal octets without leading zeros (which some parsers read as octal).
    private static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy(\.isASCIIDigit),
                  part.utf8.count == 1 || part.utf8.first != UInt8(ascii: "0"), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// The 16 bytes of an IPv6 address in RFC 4291 text form (one `::`, an optional dotted IPv4
    /// tail, a zone `%…` ignored), or nil.
    private static func ipv6(_ text: String) -> [UInt8]? {
        var address = Substring(text)
        if let zone = address.firstIndex(of: "%") { address = address[..<zone] }
        guard address.utf8.count <= 45, address.contains(":") else { return nil }
        func groups(_ part: Substring) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = ipv4(piece) else { return nil }
                    bytes += v4
                } else {
                    guard (1...4).contains(piece.utf8.count), let value = UInt16(piece, radix: 16) else { return nil }
                    bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
                }
            }
            return bytes
        }
        guard let gap = address.firstRange(of: "::") else {
            guard let bytes = groups(address), bytes.count == 16 else { return nil }
            return bytes
        }
        let tailText = address[gap.upperBound...]
        guard tailText.firstRange(of: "::") == nil, let head = groups(address[..<gap.lowerBound]), let tail = groups(tailText),
              head.count + tail.count <= 14 else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}
