extension StringProtocol {
    /// The text without leading and trailing white space (FoundationEssentials has no `trimmingCharacters`).
    public func trimmed() -> String {
        // By index, not by re-assembling reversed Characters: one slice, copied once.
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
