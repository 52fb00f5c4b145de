#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Handlers
import PropertyBased
import Testing

/// Domain matching against the shapes spoofers use, over generated hosts rather than a handful of
/// examples.
@Suite("Domain matching properties")
struct DomainPropertyTests {
    static let label = Gen.lowercaseLetter.string(of: 1...12)
    /// Names under `.com`; the label before it ends in `-site`, so that none is a public suffix (`de.com`, `us.com`).
    static let host = Gen.lowercaseLetter.string(of: 1...10).array(of: 1...3).map { $0.joined(separator: ".") + "-site.com" }

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

    /// Public suffixes of both sections of the list: under each, anyone can register a site.
    static let publicSuffix = Gen.element(of: ["co.uk", "org.uk", "com.au", "co.jp", "com.br", "co.nz", "co.in", "github.io", "gitlab.io",
                                               "herokuapp.com", "vercel.app", "netlify.app", "pages.dev", "appspot.com", "web.app",
                                               "firebaseapp.com", "cloudfront.net", "s3.amazonaws.com", "azurewebsites.net", "blogspot.com"])
        .compactMap { $0 }
    /// A label that is not `localhost` and, beginning with letters, not the last label of an IPv4 address.
    static let siteLabel = Gen.lowercaseLetter.string(of: 1...8).map { "site\($0)" }
    static let ipv4 = Gen.int(in: 0...255).array(of: 4).map { $0.map(String.init).joined(separator: ".") }

    /// How an operator might spell an entry: any case, a trailing dot, as an origin.
    static func spellings(of entry: String) -> [String] {
        [entry, entry.uppercased(), entry + ".", "https://\(entry)/", "http://\(entry.uppercased()):8080"]
    }

    @Test("public suffixes, wildcards over anything and single labels are refused as entries, however spelled")
    func suffixesWildcardsAndSingleLabelsAreRefused() async {
        await propertyCheck(input: Self.publicSuffix, Self.label, Self.host) { suffix, single, host in
            for spelling in Self.spellings(of: suffix) {
                #expect(AllowedDomain(spelling) == nil, "\(spelling)")
            }
            #expect(AllowedDomain("*.\(suffix)") == nil)
            #expect(AllowedDomain("*.\(host)") == nil)
            #expect(AllowedDomain("*\(host)") == nil)
            if single != "localhost" {
                for spelling in Self.spellings(of: single) {
                    #expect(AllowedDomain(spelling) == nil, "\(spelling)")
                }
            }
        }
    }

    @Test("a name under a public suffix (customer.co.uk, myapp.github.io) is an entry, admitting its subdomains")
    func registrableNamesAreAccepted() async {
        await propertyCheck(input: Self.publicSuffix, Self.siteLabel, Self.label) { suffix, name, sub in
            let registrable = "\(name).\(suffix)"
            for spelling in Self.spellings(of: registrable) {
                #expect(AllowedDomain(spelling)?.host == registrable, "\(spelling)")
            }
            #expect(AllowedDomain(registrable)?.matches("\(sub).\(registrable)") == true)
            #expect(AllowedDomain("\(sub).\(registrable)")?.host == "\(sub).\(registrable)")
            #expect(AllowedDomain.candidates(for: "\(sub).\(registrable)") == ["\(sub).\(registrable)", registrable])
        }
    }

    @Test("an IPv4 address matches itself only: never a host that ends in it, and no name entry matches an address")
    func ipv4AddressesMatchExactly() async {
        await propertyCheck(input: Self.ipv4, Self.label, Self.host) { address, label, name in
            let entry = AllowedDomain(address)
            #expect(entry?.host == address)
            #expect(entry?.matches(address) == true)
            #expect(entry?.matches("\(label).\(address)") == false)
            #expect(entry?.matches("\(name).\(address)") == false)
            #expect(AllowedDomain.candidates(for: "\(label).\(address)") == [])
            #expect(AllowedDomain.candidates(for: address) == [address])
            #expect(AllowedDomain(name)?.matches(address) == false)
            let parent = address.split(separator: ".").dropFirst().joined(separator: ".")
            #expect(AllowedDomain(parent) == nil, "three numbers are not an address a browser sends: \(parent)")
        }
    }

    /// The address in `pieces` as `inet_ntop` writes it, bracketed as in an origin.
    static func ipv6Reference(_ pieces: [Int]) -> String? {
        var bytes = pieces.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        var text = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, &bytes, &text, 64) != nil else { return nil }
        return "[" + String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "]"
    }

    @Test("an IPv6 address, bracketed or not and however zero-padded, is stored as browsers write it and matches exactly")
    func ipv6AddressesMatchExactly() async {
        // A non-zero first piece keeps inet_ntop off its IPv4-compatible spellings, which browsers do not use;
        // a third of the other pieces zero, so that runs of zeros to compress are common.
        let rest = Gen.int(in: 0...0xffff).array(of: 7).map { $0.map { $0 % 3 == 0 ? 0 : $0 } }
        await propertyCheck(input: Gen.int(in: 1...0xffff), rest, Gen.bool, Self.label) { first, rest, bracketed, label in
            let all = [first] + rest
            guard let canonical = Self.ipv6Reference(all) else { return }
            let padded = all.map { String(repeating: "0", count: 4 - String($0, radix: 16).count) + String($0, radix: 16, uppercase: true) }
                .joined(separator: ":")
            let entry = AllowedDomain(bracketed ? "[\(padded)]" : padded)
            #expect(entry?.host == canonical, "\(padded)")
            #expect(entry?.matches(canonical) == true)
            #expect(entry?.matches("\(label).\(canonical)") == false)
            #expect(AllowedDomain.candidates(for: canonical) == [canonical])
        }
    }
}
