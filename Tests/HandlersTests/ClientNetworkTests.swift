@testable import Handlers
import Testing

/// Limits and blocks are keyed by the client's network, whatever the spelling of its address.
@Suite("Client networks")
struct ClientNetworkTests {
    @Test("spellings of one IPv6 /64 are one network", arguments: [
        "2001:db8:1:2::1", "2001:DB8:1:2::99", "2001:0db8:0001:0002:0000:0000:0000:0001", "2001:db8:1:2:ffff:ffff:ffff:ffff",
        "2001:db8:1:2::1%eth0", "2001:db8:1:2::10.0.0.1",
    ])
    func ipv6SlashSixtyFour(_ address: String) {
        #expect(ClientNetwork(sourceIp: address).description == "2001:db8:1:2::/64")
    }

    @Test("IPv4 and its IPv4-mapped IPv6 forms are one address")
    func mappedIPv4() {
        for address in ["10.0.0.1", "::ffff:10.0.0.1", "::ffff:a00:1", "0:0:0:0:0:ffff:10.0.0.1"] {
            #expect(ClientNetwork(sourceIp: address).description == "10.0.0.1", "\(address)")
        }
        #expect(ClientNetwork(sourceIp: "10.0.0.2").description == "10.0.0.2")
    }

    @Test("other /64s and malformed addresses are other keys; a non-address is hashed, never kept verbatim")
    func distinct() {
        #expect(ClientNetwork(sourceIp: "2001:db8:1:3::1") != ClientNetwork(sourceIp: "2001:db8:1:2::1"))
        for text in ["010.0.0.1", "1.2.3", "1:2:3:4:5:6:7:8:9", "1::2::3", "test-invoke-source-ip", String(repeating: "a", count: 5000)] {
            let key = ClientNetwork(sourceIp: text).description
            #expect(key.hasPrefix("h") && key.utf8.count <= 17, "\(text.prefix(40))")
        }
    }
}
