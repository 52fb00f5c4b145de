import Foundation
import Handlers
import PropertyBased
import Testing

/// Issue #23 (hostile clients), finding B, over generated tokens: a bearer token is accepted in one
/// spelling, with numeric times, and for a bounded lifetime only.
@Suite("Admin token properties")
struct AdminTokenPropertyTests {
    /// A header and claims of varying lengths, so that every segment ends in each kind of last group.
    static func segments(kid: String, subject: String, exp: Int) -> (header: String, payload: String) {
        (RawJWT.base64url(Data(#"{"alg":"HS256","typ":"JWT","kid":"\#(kid)"}"#.utf8)),
         RawJWT.base64url(Data(#"{"sub":"\#(subject)","scope":"admin","exp":\#(exp)}"#.utf8)))
    }

    @Test("flipping unused low bits of any segment's last character is refused; the canonical spelling is accepted")
    func unusedBitsAreRefused() async throws {
        let harness = try await Harness.admin()
        let exp = Int(harness.clock.now().timeIntervalSince1970) + 600
        await propertyCheck(input: Gen.lowercaseLetter.string(of: 0...12), Gen.lowercaseLetter.string(of: 0...12), Gen.int(in: 0...2),
                            Gen.int(in: 1...15)) { kid, subject, segment, flip in
            let (header, payload) = Self.segments(kid: kid, subject: subject, exp: exp)
            let canonical = RawJWT.signed(header, payload, secret: Harness.adminSecret)
            let accepted = try await harness.admin("GET", "widgets", authorization: .some("Bearer \(canonical)")).status
            #expect(accepted == 200)
            let respelled: String?
            switch segment {
            case 0: respelled = RawJWT.flippingUnusedBits(of: header, by: flip).map { RawJWT.signed($0, payload, secret: Harness.adminSecret) }
            case 1: respelled = RawJWT.flippingUnusedBits(of: payload, by: flip).map { RawJWT.signed(header, $0, secret: Harness.adminSecret) }
            default:
                let parts = canonical.split(separator: ".").map(String.init)
                respelled = RawJWT.flippingUnusedBits(of: parts[2], by: flip).map { "\(parts[0]).\(parts[1]).\($0)" }
            }
            // A segment whose length is a multiple of four has no unused bits to flip.
            guard let respelled else { return }
            let refused = try await harness.admin("GET", "widgets", authorization: .some("Bearer \(respelled)")).status
            #expect(refused == 401)
        }
    }

    @Test("nbf or iat of any JSON type but a number is refused")
    func nonNumericTimesAreRefused() async throws {
        let harness = try await Harness.admin()
        let now = Int(harness.clock.now().timeIntervalSince1970)
        await propertyCheck(input: Gen.int(in: 0...7), Gen.lowercaseLetter.string(of: 0...10), Gen.bool) { kind, text, isNotBefore in
            let value = [#""\#(text)""#, #""\#(now)""#, "true", "false", "null", "[\(now)]", #"{"t":\#(now)}"#, #"[]"#][kind]
            let claim = isNotBefore ? "nbf" : "iat"
            let token = RawJWT.make(claims: #"{"scope":"admin","exp":\#(now + 600),"\#(claim)":\#(value)}"#, secret: Harness.adminSecret)
            let answer = try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)"))
            #expect(answer.status == 401, "\(claim): \(value)")
            #expect(answer.message.contains(claim), "\(answer.message)")
        }
    }

    @Test("a lifetime above the maximum is refused and one within it accepted, with iat or without, whatever the maximum")
    func lifetimesAreBounded() async throws {
        await propertyCheck(count: 50, input: Gen.int(in: 60...200_000), Gen.int(in: 0...10_000_000), Gen.bool) { maximum, excess, withIssuedAt in
            let harness = try await Harness.admin(environment: ["ADMIN_TOKEN_MAX_LIFETIME_SECONDS": "\(maximum)"])
            let now = Int(harness.clock.now().timeIntervalSince1970)
            func status(lifetime: Int) async throws -> Int {
                let iat = withIssuedAt ? #","iat":\#(now)"# : ""
                let token = RawJWT.make(claims: #"{"scope":"admin","exp":\#(now + lifetime)\#(iat)}"#, secret: Harness.adminSecret)
                return try await harness.admin("GET", "widgets", authorization: .some("Bearer \(token)")).status
            }
            #expect(try await status(lifetime: maximum + 1 + excess) == 401, "maximum \(maximum), lifetime \(maximum + 1 + excess)")
            #expect(try await status(lifetime: max(1, maximum - excess)) == 200, "maximum \(maximum), lifetime \(max(1, maximum - excess))")
        }
    }

    @Test("a default-maximum harness refuses every lifetime above 24 hours and accepts every one up to it")
    func defaultMaximum() async throws {
        let harness = try await Harness.admin()
        await propertyCheck(input: Gen.int(in: 1...86_400), Gen.int(in: 86_401...1_000_000_000)) { within, beyond in
            // Hoisted out of #expect: a closure whose only `try` is inside a macro is not inferred to throw.
            let accepted = try await harness.admin("GET", "widgets", authorization: .some("Bearer \(harness.token(lifetime: TimeInterval(within)))"))
            let refused = try await harness.admin("GET", "widgets", authorization: .some("Bearer \(harness.token(lifetime: TimeInterval(beyond)))"))
            #expect(accepted.status == 200)
            #expect(refused.status == 401)
        }
    }
}
