import Handlers
import Testing

@Suite("Origin normalisation and domain matching")
struct OriginTests {
    @Test("an explicit default port and a trailing slash normalise away (seed 003)")
    func defaultPortAndTrailingSlash() {
        #expect(Origin("https://voxanne.ai:443/") == Origin("https://voxanne.ai"))
        #expect(Origin("http://localhost:80") == Origin("http://localhost"))
        #expect(Origin("HTTPS://Customer.COM")?.description == "https://customer.com")
    }

    @Test("a non-default port is part of the origin")
    func nonDefaultPort() {
        #expect(Origin("http://localhost:5173")?.description == "http://localhost:5173")
        #expect(Origin("http://localhost:5173") != Origin("http://localhost"))
    }

    @Test("userinfo, other schemes, null and non-ASCII hosts are not origins", arguments: [
        "https://customer.com@evil.net", "null", "file:///etc/passwd", "javascript:alert(1)", "https://", "https://exa mple.com",
        "https://bücher.example", "https://customer.com:99999", "https://-bad-.com",
    ])
    func rejected(raw: String) {
        #expect(Origin(raw) == nil)
    }

    @Test("a domain matches itself and true subdomains only", arguments: [
        ("customer.com", "customer.com", true),
        ("customer.com", "app.customer.com", true),
        ("customer.com", "a.b.customer.com", true),
        ("customer.com", "evilcustomer.com", false),
        ("customer.com", "customer.com.evil.net", false),
        ("customer.com", "com", false),
        ("*.customer.com", "app.customer.com", true),
        ("https://Customer.com/", "customer.com", true),
        ("xn--bcher-kva.example", "shop.xn--bcher-kva.example", true),
    ])
    func domainMatching(allowed: String, host: String, matches: Bool) throws {
        let domain = try #require(AllowedDomain(allowed))
        #expect(domain.matches(host) == matches)
    }
}
