/// Validation of the ids clients send; anything else is `invalid_request` before it reaches the store.
public enum Identifiers {
    /// `^widget_[a-z0-9_]{12,64}$` (SPEC §4.1).
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

/// Finds the widget a request names and checks it may be used from the request's origin; shared
/// by `$connect` and the chat POST so both apply one policy.
struct WidgetGate: Sendable {
    let dependencies: Dependencies

    /// The widget and the origin it was allowed for, or the refusal (already recorded as an event).
    func admit(widgetId rawId: String?, client: SecurityEventRecorder.Client) async throws -> Result<(WidgetConfig, Origin?), Refusal> {
        let recorder = SecurityEventRecorder(store: dependencies.store, clock: dependencies.clock, configuration: dependencies.configuration)
        var client = client
        guard let widgetId = rawId ?? dependencies.configuration.defaultWidgetId else {
            return .failure(.invalidRequest("widget_id is required."))
        }
        guard Identifiers.isValidWidgetId(widgetId) else {
            client.widgetId = nil
            try await recorder.refuse(.invalidWidgetId, client: client, details: ["widget_id": String(widgetId.prefix(100))])
            return .failure(.invalidRequest("widget_id is not a valid widget id."))
        }
        client.widgetId = widgetId
        guard let widget = try await dependencies.store.widget(id: widgetId), widget.isActive else {
            try await recorder.refuse(.widgetNotFound, client: client, details: ["widget_id": widgetId])
            return .failure(Refusal(.widgetNotFoundOrInactive, "This chat widget is not available."))
        }
        switch OriginPolicy(configuration: dependencies.configuration).verdict(for: client.origin, widget: widget) {
        case .allowed(let origin):
            return .success((widget, origin))
        case .refused(let type, let reason):
            try await recorder.refuse(type, client: client, details: ["reason": reason])
            return .failure(Refusal(.domainNotAuthorized, "This website is not authorized to use this chat widget."))
        }
    }
}
