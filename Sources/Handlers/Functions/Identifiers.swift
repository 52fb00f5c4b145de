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
    /// A client that is refused while it is blocked is told it is blocked, and its refusal counts
    /// as one more blocked request rather than as a new warning.
    func admit(widgetId rawId: String?, client: SecurityEventRecorder.Client) async throws -> Result<(WidgetConfig, Origin?), Refusal> {
        var client = client
        guard let widgetId = rawId ?? dependencies.configuration.defaultWidgetId else {
            return .failure(.invalidRequest("widget_id is required."))
        }
        guard Identifiers.isValidWidgetId(widgetId) else {
            client.widgetId = nil
            return try await refuse(.invalidWidgetId, client: client, details: ["widget_id": String(widgetId.prefix(100))],
                                    .invalidRequest("widget_id is not a valid widget id."))
        }
        client.widgetId = widgetId
        guard let widget = try await dependencies.store.widget(id: widgetId), widget.isActive else {
            return try await refuse(.widgetNotFound, client: client, details: ["widget_id": widgetId],
                                    Refusal(.widgetNotFoundOrInactive, "This chat widget is not available."))
        }
        client.widgetFound = true
        switch OriginPolicy(configuration: dependencies.configuration).verdict(for: client.origin, widget: widget) {
        case .allowed(let origin):
            InvocationTelemetry.serving(widgetId: widget.widgetId)
            return .success((widget, origin))
        case .refused(let type, let reason):
            return try await refuse(type, client: client, details: ["reason": reason],
                                    Refusal(.domainNotAuthorized, "This website is not authorized to use this chat widget."))
        }
    }

    /// Records `refusal` as an event of `type` and returns it, or `temporarily_blocked` when the
    /// client is blocked. Whether the origin counts as allowed (and so what the block is keyed by)
    /// is asked of every widget when this one could not tell: a refused origin is never allowed.
    private func refuse(_ type: SecurityEventType, client: SecurityEventRecorder.Client, details: [String: String],
                        _ refusal: Refusal) async throws -> Result<(WidgetConfig, Origin?), Refusal> {
        var client = client
        if type != .domainNotAllowed && type != .originNotAllowed {
            client.originAllowed = try await allowedOrigin(client: client, widgetId: nil) != nil
        }
        let recorder = SecurityEventRecorder(store: dependencies.store, clock: dependencies.clock, configuration: dependencies.configuration)
        if let blocked = try await blockedRefusal(client: client) {
            try await recorder.refuse(.blocked, client: client, details: ["limit_type": "blocked", "instead_of": type.rawValue])
            return .failure(blocked)
        }
        try await recorder.refuse(type, client: client, details: details)
        return .failure(refusal)
    }

    /// `temporarily_blocked` while a block on the client's `blockKey` is in force, else nil.
    func blockedRefusal(client: SecurityEventRecorder.Client) async throws -> Refusal? {
        let now = dependencies.clock.now()
        guard let until = try await dependencies.store.blockedUntil(client.blockKey, now: now) else { return nil }
        return Refusal(.temporarilyBlocked, "Too many refused requests. Please wait before trying again.",
                       retryAfter: RateLimiter.seconds(from: now, to: until), blockExpiresAt: until)
    }

    /// The request's origin when it may use some widget: it is first-party, the named widget (or
    /// the default one) allows it, or it belongs to the domain of an active widget. Preflights carry
    /// no body to name their widget, and refusals before the widget is known ask the same.
    func allowedOrigin(client: SecurityEventRecorder.Client, widgetId: String?) async throws -> Origin? {
        guard let origin = client.origin.origin else { return nil }
        let policy = OriginPolicy(configuration: dependencies.configuration)
        if policy.isFirstParty(origin) { return origin }
        let named = widgetId ?? dependencies.configuration.defaultWidgetId
        if let named, Identifiers.isValidWidgetId(named), let widget = try await dependencies.store.widget(id: named), widget.isActive,
           policy.verdict(for: client.origin, widget: widget) == .allowed(origin) {
            return origin
        }
        for domain in AllowedDomain.candidates(for: origin.host) where try await dependencies.store.activeWidgetAllows(domain: domain) {
            return origin
        }
        return nil
    }
}
