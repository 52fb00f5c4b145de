#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ISO-8601 timestamps as the API writes them (`2026-01-02T03:04:05Z`).
public enum ISO8601 {
    /// `2025-11-25T16:00:00Z`: what `Date.ISO8601FormatStyle` writes (fractions of a second dropped),
    /// written from the UTC calendar fields by hand for the years 1600 to 9999, as the format style
    /// builds a calendar on every call (admin listings write a time per event). Other dates go
    /// through the format style, which counts Julian days before the Gregorian reform of 1582.
    public static func string(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        // 1600-01-01 and 10000-01-01 in seconds since 1970.
        guard seconds >= -11_676_096_000, seconds < 253_402_300_800 else {
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
        }
        let (civil, second) = CivilDate.split(secondsSinceEpoch: Int(seconds))
        return String(unsafeUninitializedCapacity: 20) { output in
            var written = 0
            func digits(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                for _ in 0..<width {
                    output[written] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    written += 1
                    divisor /= 10
                }
            }
            func literal(_ byte: UInt8) {
                output[written] = byte
                written += 1
            }
            digits(civil.year, 4); literal(UInt8(ascii: "-")); digits(civil.month, 2); literal(UInt8(ascii: "-")); digits(civil.day, 2)
            literal(UInt8(ascii: "T")); digits(second / 3600, 2); literal(UInt8(ascii: ":")); digits(second / 60 % 60, 2)
            literal(UInt8(ascii: ":")); digits(second % 60, 2); literal(UInt8(ascii: "Z"))
            return written
        }
    }

    public static func stringWithMilliseconds(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
