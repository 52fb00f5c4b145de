/// Finds the widget a request names and checks it may be used from the request's origin; shared
/// by `$connect` and the chat POST so both apply one policy.
struct WidgetGate: Sendable {
    let dependencies: Dependencies

    /// A widget the request may use.
    struct Admitted {
        var widget: WidgetConfig
        /// The origin it was allowed for; nil where a missing origin is allowed.
        var origin: Origin?
        /// The client as the gate found it: its widget found, its origin allowed.
        var client: SecurityEventRecorder.Client
    }

    /// A refusal of the gate (already recorded as an event), with the origin that may still read
    /// it: one some widget allows, so that a widget page can learn why (CORS), and never the
    /// origin a `domain_not_authorized` refuses. Worked out once, for the event's key and the
    /// answer's headers alike.
    struct Refused: Error {
        var refusal: Refusal
        var readableBy: Origin?
    }

    /// The widget and the origin it was allowed for, or the refusal. A client that is refused while
    /// it is blocked is told it is blocked, and its refusal counts as one more blocked request
    /// rather than as a new warning.
    func admit(widgetId rawId: String?, client: SecurityEventRecorder.Client) async throws -> Result<Admitted, Refused> {
        var client = client
        guard let widgetId = rawId ?? dependencies.configuration.defaultWidgetId else {
            return .failure(Refused(refusal: .invalidRequest("widget_id is required."),
                                    readableBy: try await allowedOrigin(client: client, widgetId: nil)))
        }
        guard Identifiers.isValidWidgetId(widgetId) else {
            client.widgetId = nil
            return try await refuse(.invalidWidgetId, client: client, named: widgetId, details: ["widget_id": String(widgetId.prefix(100))],
                                    .invalidRequest("widget_id is not a valid widget id."))
        }
        client.widgetId = widgetId
        guard let widget = try await dependencies.store.widget(id: widgetId), widget.isActive else {
            return try await refuse(.widgetNotFound, client: client, named: widgetId, details: ["widget_id": widgetId],
                                    Refusal(.widgetNotFoundOrInactive, "This chat widget is not available."))
        }
        client.widgetFound = true
        switch OriginPolicy(configuration: dependencies.configuration).verdict(for: client.origin, widget: widget) {
        case .allowed(let origin):
            InvocationTelemetry.serving(widgetId: widget.widgetId)
            client.originAllowed = true
            return .success(Admitted(widget: widget, origin: origin, client: client))
        case .refused(let type, let reason):
            return try await refuse(type, client: client, named: widgetId, details: ["reason": reason],
                                    Refusal(.domainNotAuthorized, "This website is not authorized to use this chat widget."))
        }
    }

    /// Records `refusal` as an event of `type` and returns it, or `temporarily_blocked` when the
    /// client is blocked. Whether the origin counts as allowed (and so what the block is keyed by)
    /// is asked of every widget when this one could not tell: a refused origin is never allowed.
    private func refuse(_ type: SecurityEventType, client: SecurityEventRecorder.Client, named widgetId: String,
                        details: [String: String], _ refusal: Refusal) async throws -> Result<Admitted, Refused> {
        var client = client
        let originRefused = type == .domainNotAllowed || type == .originNotAllowed
        let allowed = originRefused ? nil : try await allowedOrigin(client: client, widgetId: widgetId)
        client.originAllowed = allowed != nil
        if let blocked = try await refusalIfBlocked(client, details: ["limit_type": "blocked", "instead_of": type.rawValue]) {
            // A blocked answer is readable where any other refusal but `domain_not_authorized` is.
            let readable = originRefused ? try await allowedOrigin(client: client, widgetId: widgetId) : allowed
            return .failure(Refused(refusal: blocked, readableBy: readable))
        }
        try await SecurityEventRecorder(store: dependencies.store, clock: dependencies.clock, configuration: dependencies.configuration)
            .refuse(type, client: client, details: details)
        return .failure(Refused(refusal: refusal, readableBy: allowed))
    }

    /// `temporarily_blocked`, recorded as a blocked request with `details`, while a block on the
    /// client's `blockKey` is in force; else nil, and nothing recorded.
    func refusalIfBlocked(_ client: SecurityEventRecorder.Client, details: [String: String]) async throws -> Refusal? {
        let now = dependencies.clock.now()
        guard let until = try await dependencies.store.blockedUntil(client.blockKey, now: now) else { return nil }
        try await SecurityEventRecorder(store: dependencies.store, clock: dependencies.clock, configuration: dependencies.configuration)
            .refuse(.blocked, client: client, details: details)
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
