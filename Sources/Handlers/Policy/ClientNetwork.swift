/// The network a client's limits, warnings and blocks are keyed by: its IPv4 address, or the /64 of
/// its IPv6 address. One IPv6 subscriber is routinely given a whole /64, so keying by the address
/// would give a client 2⁶⁴ fresh sets of limits; and one address has many spellings (`2001:DB8::1`,
/// `2001:0db8:0:0::1`, `::ffff:10.0.0.1` for `10.0.0.1`), which must all be one key.
public struct ClientNetwork: Sendable, Equatable, CustomStringConvertible {
    /// `10.0.0.1`, `2001:db8:1:2::/64`, or for what is no IP address (a fixture's placeholder), a
    /// short hash of it prefixed with `h`.
    public let description: String

    public init(sourceIp: String) {
        var address = Substring(sourceIp)
        if let zone = address.firstIndex(of: "%") { address = address[..<zone] }
        if let v4 = IPAddressText.ipv4Octets(address) {
            description = Self.dotted(v4)
        } else if address.utf8.count <= 45, let pieces = IPAddressText.ipv6Pieces(address) {
            if pieces[0..<5].allSatisfy({ $0 == 0 }) && pieces[5] == 0xffff {
                description = Self.dotted([pieces[6] >> 8, pieces[6] & 0xff, pieces[7] >> 8, pieces[7] & 0xff].map { UInt8($0) })
            } else {
                description = pieces[0..<4].map { String($0, radix: 16) }.joined(separator: ":") + "::/64"
            }
        } else {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in sourceIp.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            description = "h" + String(hash, radix: 16)
        }
    }

    private static func dotted(_ octets: [UInt8]) -> String {
        octets.map { String($0) }.joined(separator: ".")
    }
}
