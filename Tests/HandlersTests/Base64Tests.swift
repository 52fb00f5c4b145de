import Foundation
import Handlers
import PropertyBased
import Testing

/// `Base64` against Foundation's encoder, the reference for both alphabets.
@Suite("Base64")
struct Base64Tests {
    @Test("standard base64 is Foundation's, padding included")
    func standardMatchesFoundation() async {
        await propertyCheck(input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var random = Xoshiro(propertySeed: seed)
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(Base64.encodeStandard(bytes) == Data(bytes).base64EncodedString())
        }
    }

    @Test("base64url is Foundation's with - and _ for + and /, unpadded, and decodes back")
    func urlMatchesFoundation() async {
        await propertyCheck(input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var random = Xoshiro(propertySeed: seed)
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let encoded = Base64.encodeURL(bytes)
            #expect(encoded == expected)
            #expect(Base64.decodeURL(encoded[...]) == Data(bytes))
        }
    }

    @Test("API Gateway's 11-byte ids are 16 characters ending in =")
    func elevenBytes() {
        #expect(Base64.encodeStandard([UInt8](repeating: 0xFF, count: 11)) == "//////////////8=")
    }
}
