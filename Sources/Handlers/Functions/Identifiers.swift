/// Validation of the ids clients send; anything else is `invalid_request` before it reaches the store.
public enum Identifiers {
    /// `^widget_[a-z0-9_]{12,64}$`, the pattern of `widget_id` in docs/openapi.yaml.
    public static func isValidWidgetId(_ id: String) -> Bool {
        guard id.hasPrefix("widget_") else { return false }
        let rest = id.utf8.dropFirst(7)
        return (12...64).contains(rest.count) && rest.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }

    /// Session and conversation ids: 1–128 of `A-Z a-z 0-9 _ - . :` (UUIDs and similar client ids).
    public static func isValidConversationId(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "_-.:".utf8.contains(byte)
        }
    }
}
