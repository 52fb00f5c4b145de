import Foundation

/// Identifiers shaped like API Gateway's, so that code which parses or logs them sees what AWS sends.
enum AWSIdentifiers {
    /// A connection id such as `IU3kkeN4IAMCJwA=`: 11 random bytes in base64.
    static func connectionId() -> String {
        Data((0..<11).map { _ in UInt8.random(in: .min ... .max) }).base64EncodedString()
    }

    /// A request or message id, same shape as connection ids.
    static func requestId() -> String { connectionId() }

    /// `24/Nov/2025:16:00:00 +0000`, the `requestTime` format of API Gateway events.
    static func requestTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        return formatter.string(from: date)
    }

    static func epochMillis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
