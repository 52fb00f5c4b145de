import Handlers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as seconds from `now`.
enum RetryAfter {
    /// The wait the header asks for, never negative; nil when absent or unreadable.
    static func seconds(_ header: String?, now: Date) -> Double? {
        guard let header = header?.trimmed(), !header.isEmpty else { return nil }
        if let seconds = Double(header), seconds.isFinite {
            return max(0, seconds)
        }
        return httpDate(header).map { max(0, $0.timeIntervalSince(now)) }
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate, the HTTP-date form senders must use: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
              let day = Int(parts[1]), (1...31).contains(day),
              let month = months.firstIndex(of: String(parts[2])).map({ $0 + 1 }),
              let year = Int(parts[3]), parts[3].count == 4
        else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3, (0...23).contains(time[0]), (0...59).contains(time[1]), (0...60).contains(time[2]) else { return nil }
        let seconds = CivilDate(year: year, month: month, day: day).daysSinceEpoch * CivilDate.secondsPerDay + time[0] * 3600 + time[1] * 60 + time[2]
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
