/// A UTC calendar date and its count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days` and `days_from_civil`), for the date strings events, usage buckets and HTTP
/// headers carry: no `Calendar` or `DateFormatter` per request, and the same answer on every
/// platform. The package's one place for calendar arithmetic.
public struct CivilDate: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch: Int) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days from 1970-01-01 to this date (negative before it).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static let secondsPerDay = 86_400

    /// The UTC date and second of that day (0..<86400) of a whole number of seconds since
    /// 1970-01-01T00:00:00Z, rounding down for times before it.
    public static func split(secondsSinceEpoch seconds: Int) -> (date: CivilDate, secondOfDay: Int) {
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: secondsPerDay)
        return secondOfDay < 0 ? (CivilDate(daysSinceEpoch: days - 1), secondOfDay + secondsPerDay)
            : (CivilDate(daysSinceEpoch: days), secondOfDay)
    }

    /// `value` in decimal, left-padded with zeros to `width` digits.
    public static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
