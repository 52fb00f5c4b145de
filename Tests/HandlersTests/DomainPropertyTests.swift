import Handlers
import PropertyBased
import Testing

/// Domain matching against the shapes spoofers use, over generated hosts rather than a handful of
/// examples.
@Suite("Domain matching properties")
struct DomainPropertyTests {
    static let label = Gen.lowercaseLetter.string(of: 1...12)
    static let host = Gen.lowercaseLetter.string(of: 1...10).array(of: 1...3).map { $0.joined(separator: ".") + ".com" }

    @Test("a domain matches itself and every true subdomain of it")
    func subdomainsMatch() async {
        await propertyCheck(input: Self.host, Self.label) { domain, prefix in
            let allowed = AllowedDomain(domain)
            #expect(allowed?.matches(domain) == true)
            #expect(allowed?.matches("\(prefix).\(domain)") == true)
        }
    }

    @Test("gluing letters on the front (evilcustomer.com) never matches")
    func prefixGluingNeverMatches() async {
        await propertyCheck(input: Self.host, Self.label) { domain, glue in
            #expect(AllowedDomain(domain)?.matches(glue + domain) == false)
        }
    }

    @Test("appending an attacker's domain (customer.com.evil.net) never matches")
    func suffixAppendingNeverMatches() async {
        await propertyCheck(input: Self.host, Self.host) { domain, attacker in
            // An "attacker" host that is the domain or one of its subdomains (s.com, x.s.com) makes a true
            // subdomain of it, which rightly matches: those inputs say nothing about appended domains.
            guard attacker != domain, !attacker.hasSuffix(".\(domain)") else { return }
            #expect(AllowedDomain(domain)?.matches("\(domain).\(attacker)") == false)
        }
    }

    @Test("userinfo before an attacker's host is never an origin of the victim")
    func userinfoIsRejected() async {
        await propertyCheck(input: Self.host, Self.host) { victim, attacker in
            #expect(Origin("https://\(victim)@\(attacker)") == nil)
            #expect(Origin("https://\(victim):443@\(attacker)") == nil)
        }
    }

    @Test("case, the default port and a trailing slash never change an origin")
    func normalisationIsStable() async {
        await propertyCheck(input: Self.host, Gen.bool, Gen.bool) { host, upper, trailing in
            let spelled = "https://\(upper ? host.uppercased() : host):443\(trailing ? "/" : "")"
            #expect(Origin(spelled) == Origin("https://\(host)"))
            #expect(Origin(spelled)?.description == "https://\(host)")
        }
    }

    @Test("a non-default port is kept and distinguishes origins")
    func portsAreKept() async {
        await propertyCheck(input: Self.host, Gen.int(in: 1...65535)) { host, port in
            let origin = Origin("https://\(host):\(port)")
            #expect(origin?.port == (port == 443 ? nil : port))
        }
    }

    @Test("punycode hosts match as ASCII; their Unicode spelling is not an origin")
    func punycode() async {
        await propertyCheck(input: Self.label) { label in
            let domain = "xn--\(label)-kva.example"
            #expect(AllowedDomain(domain)?.matches("shop.\(domain)") == true)
            #expect(Origin("https://\(label)ü.example") == nil)
        }
    }
}
