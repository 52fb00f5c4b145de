#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Widget configurations through the admin API: create, list (paged by cursor), read, change and
/// deactivate. Deactivating keeps the record, so that analytics and exports still name the widget.
struct AdminWidgets {
    let dependencies: Dependencies

    /// Fields a widget body may carry; anything else is a typo the operator should hear about.
    static let fields: Set<String> = ["widget_id", "name", "allowed_domains", "is_active", "limits", "settings"]
    static let limitFields: [String: ClosedRange<Int>] = [
        "max_messages_per_minute": 1...1_000_000_000, "max_messages_per_hour": 1...1_000_000_000,
        "max_messages_per_day": 1...1_000_000_000, "max_message_length": 1...100_000,
        "min_message_interval_ms": 0...86_400_000, "max_conversation_length": 1...10_000, "session_timeout_minutes": 1...10_080,
    ]
    static let settingsFields: Set<String> = ["greeting", "system_prompt", "knowledge", "colors", "blocked_keywords", "agent_id"]
    static let maxDomains = 99

    struct Page: Encodable {
        var widgets: [WidgetConfig]
        var nextCursor: String?
        var limit: Int

        enum CodingKeys: String, CodingKey {
            case widgets, limit
            case nextCursor = "next_cursor"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(widgets, forKey: .widgets)
            try container.encode(limit, forKey: .limit)
            // Always present, null on the last page, so that clients loop on one key.
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    struct One: Encodable {
        var widget: WidgetConfig
    }

    /// A created widget, and beside it the fields the legacy create response has (`SeedWidgetBody`),
    /// so that a client written for that body finds `widget_id`, `allowed_domains` and `created_at`.
    struct Created: Encodable {
        var widget: WidgetConfig

        enum CodingKeys: String, CodingKey {
            case widget
            case widgetId = "widget_id"
            case allowedDomains = "allowed_domains"
            case createdAt = "created_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(widget, forKey: .widget)
            try container.encode(widget.widgetId, forKey: .widgetId)
            try container.encode(widget.allowedDomains, forKey: .allowedDomains)
            try container.encode(widget.createdAt, forKey: .createdAt)
        }
    }

    func list(_ query: AdminQuery) async throws -> HTTPRouteResponse {
        let limit = try query.int("limit", default: 50, range: 1...100)
        let cursor = try query.widgetId("cursor")
        let page = try await dependencies.store.widgets(after: cursor, limit: limit + 1)
        let widgets = Array(page.prefix(limit))
        return AdminFunction.json(200, encoding: Page(widgets: widgets, nextCursor: page.count > limit ? widgets.last?.widgetId : nil, limit: limit))
    }

    func get(_ id: String) async throws -> HTTPRouteResponse {
        AdminFunction.json(200, encoding: One(widget: try await existing(id)))
    }

    func create(_ body: [String: JSONValue]) async throws -> HTTPRouteResponse {
        let id: String
        if let given = body["widget_id"] {
            guard let text = given.stringValue, Identifiers.isValidWidgetId(text) else {
                throw AdminError.invalid("widget_id must be a string matching ^widget_[a-z0-9_]{12,64}$.")
            }
            id = text
        } else {
            id = Self.newWidgetId()
        }
        guard body["name"] != nil || body["widget_name"] != nil else { throw AdminError.invalid("name is required (widget_name in the legacy body).") }
        guard body["allowed_domains"] != nil else { throw AdminError.invalid("allowed_domains is required: the domains the widget may be embedded on.") }
        if try await dependencies.store.widget(id: id) != nil {
            throw AdminError(.widgetExists, "A widget with id \(id) exists; change it with PATCH /api/admin/widgets/\(id).")
        }
        let now = dependencies.clock.now()
        let widget = try Self.apply(body, to: WidgetConfig(widgetId: id, name: "", allowedDomains: [], createdAt: now), at: now)
        try await dependencies.store.putWidget(widget)
        return AdminFunction.json(201, encoding: Created(widget: widget))
    }

    func update(_ id: String, with body: [String: JSONValue]) async throws -> HTTPRouteResponse {
        let current = try await existing(id)
        if let given = body["widget_id"], given.stringValue != id {
            throw AdminError.invalid("widget_id cannot change; create a new widget instead.")
        }
        let widget = try Self.apply(body, to: current, at: dependencies.clock.now())
        try await dependencies.store.putWidget(widget)
        return AdminFunction.json(200, encoding: One(widget: widget))
    }

    func deactivate(_ id: String) async throws -> HTTPRouteResponse {
        var widget = try await existing(id)
        if widget.isActive {
            widget.isActive = false
            widget.updatedAt = dependencies.clock.now()
            try await dependencies.store.putWidget(widget)
        }
        return AdminFunction.json(200, encoding: One(widget: widget))
    }

    private func existing(_ id: String) async throws -> WidgetConfig {
        guard Identifiers.isValidWidgetId(id) else { throw AdminError.invalid("\(id.prefix(80)) is not a widget id (^widget_[a-z0-9_]{12,64}$).") }
        guard let widget = try await dependencies.store.widget(id: id) else { throw AdminError(.notFound, "No widget \(id).") }
        return widget
    }

    /// `widget_` and 24 random lower-case hex digits.
    static func newWidgetId() -> String {
        var generator = SystemRandomNumberGenerator()
        return "widget_" + String((0..<24).map { _ in "0123456789abcdef".randomElement(using: &generator) ?? "0" })
    }

    /// `widget` with the fields of `body` applied: limits merge key by key, settings replace the
    /// keys given, the rest replace the field. The legacy body's names are read as the widget's own
    /// (`SeedWidgetBody`). Every value is checked before anything changes.
    static func apply(_ body: [String: JSONValue], to widget: WidgetConfig, at now: Date) throws(AdminError) -> WidgetConfig {
        if let unknown = body.keys.filter({ !fields.contains($0) && !SeedWidgetBody.fields.contains($0) }).sorted().first {
            throw .invalid("Unknown field \(unknown.prefix(60)); a widget has \(fields.sorted().joined(separator: ", "))"
                + " (or the legacy body's \(SeedWidgetBody.fields.sorted().joined(separator: ", "))).")
        }
        let body = try SeedWidgetBody.translated(body, colors: widget.settings.colors)
        var widget = widget
        if let name = body["name"] {
            widget.name = try Self.name(name, field: "name")
        }
        if let domains = body["allowed_domains"] {
            widget.allowedDomains = try allowedDomains(domains)
        }
        if let active = body["is_active"] {
            guard case .bool(let value) = active else { throw .invalid("is_active must be true or false.") }
            widget.isActive = value
        }
        if let limits = body["limits"] {
            widget.limits = try mergedLimits(widget.limits, limits)
        }
        if let settings = body["settings"] {
            widget.settings = try mergedSettings(widget.settings, settings)
        }
        widget.updatedAt = now
        return widget
    }

    /// A widget name: 1 to 200 characters once trimmed; `field` is the name the body used.
    static func name(_ value: JSONValue, field: String) throws(AdminError) -> String {
        guard let text = value.stringValue?.trimmed(), (1...200).contains(text.count) else {
            throw .invalid("\(field) must be a string of 1 to 200 characters.")
        }
        return text
    }

    /// The entries' hosts, normalised and deduplicated in order; a refused entry is a 400 that names
    /// it and says why (`AllowedDomain.Refusal`): wildcards, single labels but localhost, public suffixes.
    static func allowedDomains(_ value: JSONValue) throws(AdminError) -> [String] {
        guard case .array(let items) = value, (1...maxDomains).contains(items.count) else {
            throw .invalid("allowed_domains must be an array of 1 to \(maxDomains) domains.")
        }
        var hosts: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.stringValue else {
                throw .invalid("allowed_domains[\(index)] is not a string; entries are domains (e.g. customer.com or app.customer.com).")
            }
            switch AllowedDomain.parse(text) {
            case .failure(let refusal):
                throw .invalid("allowed_domains[\(index)] \"\(text.prefix(100))\" \(refusal).")
            case .success(let domain):
                if !hosts.contains(domain.host) { hosts.append(domain.host) }
            }
        }
        return hosts
    }

    static func mergedLimits(_ current: WidgetLimits, _ value: JSONValue) throws(AdminError) -> WidgetLimits {
        guard case .object(let given) = value else { throw .invalid("limits must be an object.") }
        guard case .object(var merged)? = try? JSONValue(parsing: JSONCoding.string(encoding: current)) else {
            throw .invalid("limits could not be read.")
        }
        for (key, item) in given.sorted(by: { $0.key < $1.key }) {
            merged[key] = .number(Double(try limit(item, key, field: "limits.\(key)")))
        }
        guard let limits = try? JSONDecoder().decode(WidgetLimits.self, from: Data(JSONCoding.string(JSONValue.object(merged)).utf8)) else {
            throw .invalid("limits could not be read.")
        }
        return limits
    }

    /// The value of the limit `key`, checked against its range; `field` is the name the body used.
    static func limit(_ value: JSONValue, _ key: String, field: String) throws(AdminError) -> Int {
        guard let range = limitFields[key] else {
            throw .invalid("Unknown limit \(key.prefix(60)); limits are \(limitFields.keys.sorted().joined(separator: ", ")).")
        }
        guard let number = value.intValue, range.contains(number) else {
            throw .invalid("\(field) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    /// Refuses an agent id the legacy body's store could not hold (`VARCHAR(64)`): 1 to 64
    /// characters, or null to remove it; `field` is the name the body used.
    static func checkAgentId(_ value: JSONValue, field: String) throws(AdminError) {
        if case .null = value { return }
        guard let text = value.stringValue, (1...64).contains(text.count), text.trimmed() == text else {
            throw .invalid("\(field) must be a string of 1 to 64 characters without surrounding white space, or null.")
        }
    }

    static func mergedSettings(_ current: WidgetSettings, _ value: JSONValue) throws(AdminError) -> WidgetSettings {
        guard case .object(let given) = value else { throw .invalid("settings must be an object.") }
        if let unknown = given.keys.filter({ !settingsFields.contains($0) }).sorted().first {
            throw .invalid("Unknown setting \(unknown.prefix(60)); settings are \(settingsFields.sorted().joined(separator: ", "))"
                + " (or the legacy body's \(SeedWidgetBody.limitNames.keys.sorted().joined(separator: ", ")), <name>Color).")
        }
        if let agent = given["agent_id"] { try checkAgentId(agent, field: "settings.agent_id") }
        guard case .object(var merged)? = try? JSONValue(parsing: JSONCoding.string(encoding: current)) else {
            throw .invalid("settings could not be read.")
        }
        merged.merge(given) { $1 }
        do {
            return try JSONDecoder().decode(WidgetSettings.self, from: Data(JSONCoding.string(JSONValue.object(merged)).utf8))
        } catch {
            throw .invalid("settings are not valid: \(DecodingErrorSummary(error)).")
        }
    }
}
