import Foundation

/// Identifiers shaped like API Gateway's, so that code which parses or logs them sees what AWS sends.
enum AWSIdentifiers {
    /// A connection id such as `IU3kkeN4IAMCJwA=`: 11 random bytes in base64.
    static func connectionId() -> String {
        Data((0..<11).map { _ in UInt8.random(in: .min ... .max) }).base64EncodedString()
    }

    /// A request or message id, same shape as connection ids.
    static func requestId() -> String { connectionId() }

    /// `24/Nov/2025:16:00:00 +0000`, the `requestTime` format of API Gateway events: always UTC with
    /// English month names, so it is formatted by hand from the UTC calendar fields (a `DateFormatter`
    /// per event cost ICU set-up on every invocation).
    static func requestTime(_ date: Date) -> String {
        let seconds = Int64((date.timeIntervalSince1970).rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (day, adjustedSecond) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        let (year, month, dayOfMonth) = civilDate(daysSinceEpoch: day)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var yearText = "\(year)"
        while yearText.count < 4 { yearText = "0" + yearText }
        return "\(two(dayOfMonth))/\(monthNames[Int(month) - 1])/\(yearText):\(two(adjustedSecond / 3600)):"
            + "\(two(adjustedSecond / 60 % 60)):\(two(adjustedSecond % 60)) +0000"
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
    /// `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func epochMillis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
