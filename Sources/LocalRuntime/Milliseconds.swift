/// Durations as the stage's log lines and `replay`'s result lines print them.
enum Milliseconds {
    /// `milliseconds` with two decimals, as `%.2f` writes it except that exact halves round up; a
    /// value that is not a finite duration is written as Swift describes it. By hand because
    /// `String(format:)` goes through Foundation's format parser: 1% of the stage's CPU and 4% of a
    /// replay's, with a line per invocation.
    static func text(_ milliseconds: Double) -> String {
        guard milliseconds.isFinite, milliseconds >= 0, milliseconds < 1e15 else { return "\(milliseconds)" }
        let scaled = Int64((milliseconds * 100).rounded())
        let fraction = scaled % 100
        return "\(scaled / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The time since `start`, in milliseconds.
    static func since(_ start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
