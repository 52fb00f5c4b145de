#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Base64 (RFC 4648) written straight from the bytes: the package's one codec.
///
/// - Unpadded base64url (`encodeURL`, `decodeURL`), as JWTs use it (RFC 7515 §2): admin tokens,
///   conversation tokens and the storage keys derived from them — every chat turn writes one.
/// - Padded standard base64 (`encodeStandard`), for ids shaped like API Gateway's.
public enum Base64 {
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `bytes` in unpadded base64url.
    public static func encodeURL(_ bytes: some Collection<UInt8>) -> String {
        encode(Array(bytes), alphabet: urlAlphabet, padded: false)
    }

    /// `bytes` in standard base64 (`+`, `/`), padded with `=` to a multiple of four characters.
    public static func encodeStandard(_ bytes: some Collection<UInt8>) -> String {
        encode(Array(bytes), alphabet: standardAlphabet, padded: true)
    }

    private static func encode(_ input: [UInt8], alphabet: [UInt8], padded: Bool) -> String {
        String(unsafeUninitializedCapacity: padded ? (input.count + 2) / 3 * 4 : (input.count * 4 + 2) / 3) { output in
            var written = 0
            var index = 0
            while index < input.count {
                let count = min(3, input.count - index)
                var bits = UInt32(input[index]) << 16
                if count > 1 { bits |= UInt32(input[index + 1]) << 8 }
                if count > 2 { bits |= UInt32(input[index + 2]) }
                for position in 0...count {
                    output[written] = alphabet[Int((bits >> (18 - 6 * UInt32(position))) & 63)]
                    written += 1
                }
                if padded {
                    for _ in count..<3 {
                        output[written] = UInt8(ascii: "=")
                        written += 1
                    }
                }
                index += 3
            }
            return written
        }
    }

    /// The bytes of canonical unpadded base64url `text`, or nil: what `Data(base64Encoded:)` makes of
    /// the text with `-`/`_` turned into `+`/`/` and `=` padding added (`+`, `/` and `=` themselves
    /// are refused), when the text is the one `encodeURL` writes for those bytes. Read straight off the
    /// text's bytes, with no replaced or padded copy of it, as every admin request verifies a token.
    public static func decodeURL(_ text: Substring) -> Data? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var count = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            count += 1
            if count % 4 == 0 {
                output.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                output.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                output.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
            }
        }
        // A last group of two or three characters holds one or two bytes, and four or two spare low
        // bits that must be zero (RFC 4648 §3.5): Foundation ignores them, which gives every token up
        // to sixteen spellings. A lone character cannot be base64, as Foundation says.
        switch count % 4 {
        case 1: return nil
        case 2:
            guard accumulator & 0xF == 0 else { return nil }
            output.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            guard accumulator & 0x3 == 0 else { return nil }
            output.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            output.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default: break
        }
        return Data(output)
    }
}
