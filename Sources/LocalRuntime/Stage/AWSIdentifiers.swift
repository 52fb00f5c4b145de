import Foundation
import Handlers

/// Identifiers shaped like API Gateway's, so that code which parses or logs them sees what AWS sends.
enum AWSIdentifiers {
    /// A connection id such as `IU3kkeN4IAMCJwA=`: 11 random bytes in base64.
    /// Drawn from the system's generator: a connection id names the connection to the management API,
    /// so it should not be guessable from another one.
    static func connectionId() -> String {
        var generator = SystemRandomNumberGenerator()
        return elevenBytesBase64(using: &generator)
    }

    /// Two 8-byte draws rather than eleven 1-byte ones (from the system's generator each draw is a
    /// getrandom system call).
    private static func elevenBytesBase64(using generator: inout some RandomNumberGenerator) -> String {
        let high: UInt64 = generator.next(), low: UInt64 = generator.next()
        return Base64.encodeStandard((0..<11).map { UInt8(truncatingIfNeeded: ($0 < 8 ? high >> ($0 * 8) : low >> (($0 - 8) * 8))) })
    }

    /// A request or message id, same shape as connection ids.
    static func requestId() -> String { connectionId() }

    /// The same from `generator`: the stage draws a message's ids from its connection's own seeded
    /// generator, since they need to be distinct, not secret.
    static func requestId(using generator: inout some RandomNumberGenerator) -> String {
        elevenBytesBase64(using: &generator)
    }

    /// A Lambda request id such as `8f5b6f7e-3c1d-4e2a-9b0c-1d2e3f4a5b6c`: a random (version 4) UUID in
    /// lower case. Foundation's `UUID()` opens and reads /dev/urandom on every call here; this is two
    /// getrandom draws.
    static func lambdaRequestId() -> String {
        var generator = SystemRandomNumberGenerator()
        return lambdaRequestId(using: &generator)
    }

    /// The same from `generator`, written as hex digits by hand: replay makes one per event, and the
    /// `String(radix:)` pieces and their concatenation cost more than the draws.
    static func lambdaRequestId(using generator: inout some RandomNumberGenerator) -> String {
        let high = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = (generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { output in
            var written = 0
            // The 32 digits of high then low, most significant first, with dashes after 8, 12, 16 and 20 of them.
            for digit in 0..<32 {
                if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                    output[written] = UInt8(ascii: "-")
                    written += 1
                }
                let word = digit < 16 ? high : low
                let nibble = UInt8(truncatingIfNeeded: word >> (60 - 4 * UInt64(digit % 16))) & 0xF
                output[written] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                written += 1
            }
            return written
        }
    }

    /// `24/Nov/2025:16:00:00 +0000`, the `requestTime` format of API Gateway events: always UTC with
    /// English month names, so it is formatted by hand from the UTC calendar fields (a `DateFormatter`
    /// per event would cost ICU set-up on every invocation).
    static func requestTime(_ date: Date) -> String {
        let (date, second) = CivilDate.split(secondsSinceEpoch: Int((date.timeIntervalSince1970).rounded(.down)))
        return "\(CivilDate.padded(date.day, 2))/\(monthNames[date.month - 1])/\(CivilDate.padded(date.year, 4)):"
            + "\(CivilDate.padded(second / 3600, 2)):\(CivilDate.padded(second / 60 % 60, 2)):\(CivilDate.padded(second % 60, 2)) +0000"
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func epochMillis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}

/// The ids one WebSocket message's invocation carries: API Gateway's request and message ids and the
/// Lambda request id. Six getrandom system calls per message (two per id) are a measurable share of
/// the stage's CPU (BENCHMARKS.md, round 11), so they come from a generator the connection's read
/// loop owns.
struct MessageIds: Sendable {
    let requestId: String
    let messageId: String
    let lambdaRequestId: String

    init(drawingFrom generator: inout some RandomNumberGenerator) {
        requestId = AWSIdentifiers.requestId(using: &generator)
        messageId = AWSIdentifiers.requestId(using: &generator)
        lambdaRequestId = AWSIdentifiers.lambdaRequestId(using: &generator)
    }
}
