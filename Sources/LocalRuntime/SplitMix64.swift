/// A fast, seedable, non-cryptographic generator (SplitMix64) for values that need to be distinct,
/// not secret: the stage's message ids and replay's request ids, drawn per event, where the
/// system generator would cost a `getrandom` system call per draw. Its outputs are a bijection of
/// its 64-bit state, so no two draws from one generator repeat within 2^64 of them.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Seeded with `seed`, or from the system's generator when it is nil.
    init(seed: UInt64? = nil) {
        var system = SystemRandomNumberGenerator()
        state = seed ?? system.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
