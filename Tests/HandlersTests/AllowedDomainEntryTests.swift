import Foundation
@testable import Handlers
import Testing

/// Issue #23 (hostile clients), finding A: an `allowed_domains` entry is a host name a customer
/// controls. Wildcards, single labels and public suffixes would admit sites of strangers; IP
/// addresses have no subdomains.
@Suite("Allowed domain entries: host names under a public suffix, IP addresses exactly")
struct AllowedDomainEntryTests {
    static func body(_ entries: [String]) -> String {
        JSONCoding.string(JSONValue.object(["name": .string("x"), "allowed_domains": .array(entries.map(JSONValue.string))]))
    }

    @Test("wildcards, single labels, public suffixes and IPv4 look-alikes are 400 naming allowed_domains and the entry", arguments: [
        "*.com", "*.customer.com", "*", "com", "shop", "COM.", "co.uk", "CO.UK", "co.uk.", "https://github.io/", "github.io",
        "herokuapp.com", "vercel.app", "netlify.app", "pages.dev", "appspot.com", "cloudfront.net", "s3.amazonaws.com",
        "amazonaws.com", "com.au", "co.jp", "web.app", "127.1", "010.0.0.5", "10.0.0.256", "customer.123", "[::1::]",
    ])
    func refused(entry: String) async throws {
        let harness = try await Harness.admin()
        let answer = try await harness.admin("POST", "widgets", body: Self.body(["ok.example", entry]))
        #expect(answer.status == 400)
        #expect(answer.error == "invalid_request")
        #expect(answer.message.contains("allowed_domains[1]"), "\(answer.message)")
        #expect(answer.message.contains(entry), "the message names the entry: \(answer.message)")
        #expect(try await harness.store.widgets(after: nil, limit: 10).count == 1, "only the demo widget")

        let patched = try await harness.admin("PATCH", "widgets/\(DemoWidget.id)", body: #"{"allowed_domains":\#(JSONCoding.string([entry]))}"#)
        #expect(patched.status == 400)
        #expect(try await harness.store.widget(id: DemoWidget.id)?.allowedDomains == ["localhost", "127.0.0.1"])
    }

    @Test("names under a public suffix, localhost and IP addresses are accepted, stored as hosts", arguments: [
        ("customer.co.uk", "customer.co.uk"), ("myapp.github.io", "myapp.github.io"), ("shop.herokuapp.com", "shop.herokuapp.com"),
        ("https://App.Customer.com:8443/path", "app.customer.com"), ("customer.com.", "customer.com"), ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"), ("10.0.0.5", "10.0.0.5"), ("[::1]", "[::1]"), ("::1", "[::1]"),
        ("2001:DB8:0:0:0:0:0:1", "[2001:db8::1]"), ("[2001:db8:0:0:1:0:0:1]", "[2001:db8::1:0:0:1]"), ("::ffff:10.0.0.5", "[::ffff:a00:5]"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"), ("foo.localhost", "foo.localhost"),
    ])
    func accepted(entry: String, host: String) async throws {
        let harness = try await Harness.admin()
        let answer = try await harness.admin("POST", "widgets", body: Self.body([entry]))
        #expect(answer.status == 201, "\(answer.message)")
        #expect(answer.body["widget"]?["allowed_domains"] == .array([.string(host)]))
        #expect(AllowedDomain(entry)?.host == host)
    }

    @Test("an IP address matches itself only, never as a parent domain (x.10.0.0.5, evil.127.0.0.1)")
    func addressesMatchExactly() throws {
        let address = try #require(AllowedDomain("10.0.0.5"))
        #expect(address.matches("10.0.0.5"))
        #expect(!address.matches("x.10.0.0.5"))
        #expect(try #require(AllowedDomain("127.0.0.1")).matches("evil.127.0.0.1") == false)
        #expect(try #require(AllowedDomain("::1")).matches("[::1]"))
        #expect(AllowedDomain.candidates(for: "x.10.0.0.5") == [])
        #expect(AllowedDomain.candidates(for: "evil.127.0.0.1") == [])
        #expect(AllowedDomain.candidates(for: "127.0.0.1") == ["127.0.0.1"])
        #expect(AllowedDomain.candidates(for: "[::1]") == ["[::1]"])
        #expect(AllowedDomain.candidates(for: "[0:0::1]") == [], "an address spelled as no browser spells it matches no entry")
    }

    @Test("localhost is an exact host: the demo widget admits localhost and 127.0.0.1, not their look-alikes", arguments: [
        ("http://localhost:5173", true), ("http://127.0.0.1:3001", true), ("http://localhost", true),
        ("http://evil.127.0.0.1", false), ("http://x.127.0.0.1:5173", false), ("http://app.localhost:5173", false),
        ("http://evil.localhost.example", false),
    ])
    func demoWidget(origin: String, allowed: Bool) async throws {
        let policy = OriginPolicy(configuration: Configuration(environment: [:]))
        let verdict = policy.verdict(for: RequestOrigin(headers: HeaderFields([("Origin", origin)])), widget: DemoWidget.make(createdAt: Date()))
        #expect((verdict == .allowed(Origin(origin))) == allowed)
        let harness = try await Harness()
        #expect(try await harness.chat(Harness.chatBody(), origin: origin).status == (allowed ? 200 : 403))
    }

    @Test("the store's domain index is searched by registrable names only: never a public suffix, a single label or an address's parent", arguments: [
        ("shop.customer.co.uk", ["shop.customer.co.uk", "customer.co.uk"]),
        ("a.b.myapp.github.io", ["a.b.myapp.github.io", "b.myapp.github.io", "myapp.github.io"]),
        ("bucket.s3.amazonaws.com", ["bucket.s3.amazonaws.com"]),
        ("app.customer.com", ["app.customer.com", "customer.com"]),
        ("localhost", ["localhost"]), ("app.localhost", ["app.localhost"]), ("co.uk", []), ("com", []),
    ])
    func candidates(host: String, expected: [String]) {
        #expect(AllowedDomain.candidates(for: host) == expected)
    }

    @Test("entries stored before these rules (com, co.uk) admit nothing and are left out of the domain index")
    func storedPublicSuffixesAdmitNothing() async throws {
        let legacy = WidgetConfig(widgetId: "widget_legacy_suffixes", name: "Legacy", allowedDomains: ["com", "co.uk", "customer.com"],
                                  createdAt: Date(timeIntervalSince1970: 1_764_000_000))
        let harness = try await Harness(widget: legacy)
        #expect(try await !harness.store.activeWidgetAllows(domain: "com"))
        #expect(try await !harness.store.activeWidgetAllows(domain: "co.uk"))
        #expect(try await harness.store.activeWidgetAllows(domain: "customer.com"))
        let body = Harness.chatBody(widget: legacy.widgetId)
        #expect(try await harness.chat(body, origin: "https://evil.com").status == 403)
        #expect(try await harness.chat(body, origin: "https://evil.co.uk").status == 403)
        #expect(try await harness.chat(body, origin: "https://app.customer.com").status == 200)
    }
}
