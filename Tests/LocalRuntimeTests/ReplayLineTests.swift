import Foundation
import Testing
@testable import LocalRuntime

/// `replay` prints one line per event, and benchmarks read the handler time back from it.
@Suite("replay output lines")
struct ReplayLineTests {
    @Test("a timing is written with two decimals, as %.2f writes it",
          arguments: [0, 0.004, 0.056, 0.3, 1.234, 9.999, 12.5, 99.994, 1234.5678])
    func timingHasTwoDecimals(milliseconds: Double) {
        #expect(Milliseconds.text(milliseconds) + " ms" == String(format: "%.2f ms", milliseconds))
    }
}
