// Handlers ships in every Lambda: FoundationEssentials keeps ICU and the rest of Foundation out of
// the binary and the cold start. The full Foundation is used only where Essentials is unavailable.
#if canImport(FoundationEssentials)
@_exported import FoundationEssentials
#else
@_exported import Foundation
#endif

extension StringProtocol {
    /// The text without leading and trailing white space (FoundationEssentials has no `trimmingCharacters`).
    public func trimmed() -> String {
        // By index, not by re-assembling reversed Characters: one slice, copied once.
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
