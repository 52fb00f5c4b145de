import Foundation
import Handlers
import Testing

/// The times responses carry, written as `Date.ISO8601FormatStyle` writes them.
@Suite("ISO 8601 times")
struct ISO8601Tests {
    static func reference(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
    }

    @Test("random dates from year 1 to 9999 (by hand from 1600), fractions of a second included, are written as the format style writes them")
    func randomDates() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -62_135_596_800..<253_402_300_800, using: &random))
            #expect(ISO8601.string(date) == Self.reference(date), "\(date.timeIntervalSince1970)")
        }
    }

    @Test("instants around midnight, the epoch and the ends of the years handled by hand", arguments: [
        0, -0.5, -1, 0.999, 86_399.999, 86_400, -86_400.25, 1_764_000_000, 951_782_400, -62_135_596_800, -62_135_596_801, -11_676_096_000, -11_676_096_001,
        253_402_300_799.5, 253_402_300_800,
    ] as [Double])
    func edges(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(ISO8601.string(date) == Self.reference(date))
    }
}
