@testable import Handlers
import Testing

/// Header names are looked up whatever their case, as HTTP requires.
@Suite("HTTP headers")
struct HTTPHeadersTests {
    @Test("a header is found whatever the case of its name or of the lookup")
    func anyCase() {
        let headers = HeaderFields([("X-Forwarded-Proto", "https"), ("origin", "https://shop.example")])
        #expect(headers["x-forwarded-proto"] == "https")
        #expect(headers["ORIGIN"] == "https://shop.example")
        #expect(headers["x-forwarded-port"] == nil)
    }

    @Test("names equal only once lower-cased beyond ASCII still match, as String.lowercased() compares them")
    func unicodeCase() {
        // KELVIN SIGN lower-cases to the ASCII letter k.
        #expect(HeaderFields.sameName("\u{212A}ey", "key"))
        #expect(HeaderFields.sameName("Ünit", "ünit"))
        #expect(!HeaderFields.sameName("Ünit", "unit"))
    }

    @Test("setting a name replaces the field of any case, and removing removes it")
    func setAndRemove() {
        var headers = HeaderFields([("Content-Type", "text/plain")])
        headers.set("content-type", "application/json")
        #expect(Array(headers).map(\.name) == ["content-type"])
        #expect(headers["CONTENT-TYPE"] == "application/json")
        headers.remove("Content-TYPE")
        #expect(headers.isEmpty)
    }
}
