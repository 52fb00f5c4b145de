@testable import Handlers
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

    @Test("ASCII origins are parsed byte by byte exactly as the Character walk parses them, for random texts")
    func asciiParseAgreesWithCharacters() {
        var random = SystemRandomNumberGenerator()
        let pieces = ["http", "https", "HTTP", "hTtPs", "://", ":", "/", "?", "#", "@", "\\", "[", "]", "::1", ".", "-", "a", "Z", "0",
                      "443", "80", "+8", "65536", "example", "COM", " ", "\t", "\r\n", "\r", "\n", "xn--", "null"]
        var parsed = 0
        for _ in 0..<20_000 {
            func run(_ count: ClosedRange<Int>) -> String {
                (0..<Int.random(in: count, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            }
            // Half of them shaped like an origin, so that hosts and ports are reached as often as refusals.
            let text = Bool.random(using: &random) ? run(0...9) : run(0...1) + ["http", "HTTPS", "https"].randomElement(using: &random)! + "://" + run(1...6)
            let ascii: Origin?? = switch Origin.parseASCII(text) {
            case .parsed(let origin): { parsed += 1; return .some(origin) }()
            case .refused: .some(nil)
            case .notASCII: nil
            }
            #expect(ascii == .some(Origin.parseCharacters(text)), "\(text.debugDescription)")
        }
        #expect(parsed > 1_000, "too few texts were origins to compare the parsed values")
    }

    @Test("a text that is not ASCII is left to the Character walk")
    func nonASCIIIsNotParsedByBytes() {
        guard case .notASCII = Origin.parseASCII("https://bücher.example") else {
            Issue.record("parsed by bytes")
            return
        }
        #expect(Origin("https://bücher.example") == nil)
        #expect(Origin("\u{00A0}https://shop.example") == Origin.parseCharacters("\u{00A0}https://shop.example"))
    }

    @Test("allowed domains are read as before the byte-level checks, for random texts")
    func allowedDomainsAgreeWithCharacterChecks() {
        // The checks as `Character`s, as they were written before they went over bytes.
        func reference(_ raw: String) -> String? {
            var text = raw.trimmed().lowercased()
            if text.contains("://") {
                guard let origin = Origin.parseCharacters(text) else { return nil }
                text = origin.host
            }
            if text.hasPrefix("*.") { text.removeFirst(2) }
            if text.hasSuffix(".") { text.removeLast() }
            let labels = text.split(separator: ".", omittingEmptySubsequences: false)
            let valid = !text.isEmpty && text.utf8.count <= 253 && (text.hasPrefix("[")
                ? text.hasSuffix("]") && text.utf8.dropFirst().dropLast().allSatisfy { $0.isASCIIDigit || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
                : labels.allSatisfy { label in
                    !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                        && label.utf8.allSatisfy { $0.isASCIILowercaseLetter || $0.isASCIIDigit || $0 == UInt8(ascii: "-") }
                })
            return valid ? text : nil
        }
        var random = SystemRandomNumberGenerator()
        let pieces = ["https://", "http://", ":/", "/", ":", "*.", ".", "-", "a", "B", "0", "shop", "example", "com", " ", "[", "]", "::1",
                      "é", "\u{301}", "@", "\t"]
        var valid = 0
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 0...7, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let host = AllowedDomain(text)?.host
            if host != nil { valid += 1 }
            #expect(host == reference(text), "\(text.debugDescription)")
        }
        #expect(valid > 1_000)
        #expect(AllowedDomain.containsSchemeSeparator("a://b") && !AllowedDomain.containsSchemeSeparator(":/:/") && !AllowedDomain.containsSchemeSeparator(""))
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
