import Foundation
@testable import OpenAIProvider
import Testing

@Suite("Retry-After")
struct RetryAfterTests {
    let now = Date(timeIntervalSince1970: 784_111_777) // Sun, 06 Nov 1994 08:49:37 GMT

    @Test("delay-seconds is read as seconds, fractions included")
    func delaySeconds() {
        #expect(RetryAfter.seconds("3", now: now) == 3)
        #expect(RetryAfter.seconds(" 0.5 ", now: now) == 0.5)
    }

    @Test("an HTTP-date is the time until that date")
    func httpDate() {
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:50:07 GMT", now: now) == 30)
        #expect(RetryAfter.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == now)
    }

    @Test("a date in the past or a negative delay means now")
    func past() {
        #expect(RetryAfter.seconds("Sat, 05 Nov 1994 08:49:37 GMT", now: now) == 0)
        #expect(RetryAfter.seconds("-5", now: now) == 0)
    }

    @Test("absent or unreadable headers give no delay", arguments: [nil, "", "soon", "Sun, 06 Nov 1994 25:00:00 GMT", "nan", "inf"])
    func unreadable(header: String?) {
        #expect(RetryAfter.seconds(header, now: now) == nil)
    }
}
