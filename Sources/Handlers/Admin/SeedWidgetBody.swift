/// The legacy widget body ("the legacy widget body" in README and in the API's error messages; its fields
/// are in docs/openapi.yaml's `WidgetInput`), read alongside the widget's own: its names are moved
/// onto the widget's before the body is applied.
///
/// | legacy                                            | the widget's                            |
/// |---------------------------------------------------|-----------------------------------------|
/// | `widget_name`                                     | `name`                                  |
/// | `agent_id`                                        | `settings.agent_id`                     |
/// | `settings.maxMessagesPerHour`, `…PerDay`, `…PerMinute`, `maxMessageLength`, `minMessageInterval` (ms), `maxConversationLength`, `sessionTimeoutMinutes` | `limits.max_messages_per_hour`, … (`limitNames`) |
/// | `settings.<name>Color` (`primaryColor`)           | `settings.colors.<name>` (`primary`)    |
///
/// `greeting` and `allowed_domains` are spelled alike. A legacy colour is one key of `colors`: it
/// changes that colour and keeps the others, unless the body sets `settings.colors` itself.
///
/// A body may mix both vocabularies. When it names one field both ways the values must agree:
/// differing values are a 400 that names both, never a silent choice — a client that sent either
/// meant it. Legacy values are checked here, so that a refusal names the field as it was sent
/// (`settings.maxMessagesPerHour`, not `limits.max_messages_per_hour`).
enum SeedWidgetBody {
    /// Top-level fields only the legacy body has.
    static let fields: Set<String> = ["widget_name", "agent_id"]

    /// The legacy body's limits, which it carries in `settings`, by the widget's name for each.
    static let limitNames: [String: String] = [
        "maxMessagesPerMinute": "max_messages_per_minute", "maxMessagesPerHour": "max_messages_per_hour",
        "maxMessagesPerDay": "max_messages_per_day", "maxMessageLength": "max_message_length",
        "minMessageInterval": "min_message_interval_ms", "maxConversationLength": "max_conversation_length",
        "sessionTimeoutMinutes": "session_timeout_minutes",
    ]

    /// `body` with the legacy names replaced by the widget's; `colors` are the widget's colours now.
    static func translated(_ body: [String: JSONValue], colors: [String: String]) throws(AdminError) -> [String: JSONValue] {
        var body = body
        if let name = body.removeValue(forKey: "widget_name") {
            _ = try AdminWidgets.name(name, field: "widget_name")
            try agree(name, "widget_name", with: body["name"], "name")
            body["name"] = name
        }
        var settings = try object(body["settings"], "settings") ?? [:]
        var limits = try object(body["limits"], "limits") ?? [:]
        if let agent = body.removeValue(forKey: "agent_id") {
            try AdminWidgets.checkAgentId(agent, field: "agent_id")
            try agree(agent, "agent_id", with: settings["agent_id"], "settings.agent_id")
            settings["agent_id"] = agent
        }
        var seedColors: [(name: String, value: JSONValue, field: String)] = []
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            if let limit = limitNames[key] {
                _ = try AdminWidgets.limit(value, limit, field: "settings.\(key)")
                try agree(value, "settings.\(key)", with: limits[limit], "limits.\(limit)")
                limits[limit] = value
                settings[key] = nil
            } else if key.hasSuffix("Color"), key.count > "Color".count {
                guard case .string = value else { throw .invalid("settings.\(key.prefix(60)) must be a string: a CSS colour.") }
                seedColors.append((String(key.dropLast("Color".count)), value, "settings.\(key)"))
                settings[key] = nil
            }
        }
        if !seedColors.isEmpty {
            let given = try object(settings["colors"], "settings.colors")
            var merged = given ?? colors.mapValues(JSONValue.string)
            for color in seedColors {
                if given != nil { try agree(color.value, color.field, with: merged[color.name], "settings.colors.\(color.name)") }
                merged[color.name] = color.value
            }
            settings["colors"] = .object(merged)
        }
        if body["settings"] != nil || !settings.isEmpty { body["settings"] = .object(settings) }
        if body["limits"] != nil || !limits.isEmpty { body["limits"] = .object(limits) }
        return body
    }

    /// The members of `value` when it is an object, nil when it is absent; any other value is a 400.
    private static func object(_ value: JSONValue?, _ field: String) throws(AdminError) -> [String: JSONValue]? {
        guard let value else { return nil }
        guard case .object(let members) = value else { throw .invalid("\(field) must be an object.") }
        return members
    }

    /// Refuses a body that names one field both ways with different values.
    private static func agree(_ value: JSONValue, _ seedField: String, with existing: JSONValue?, _ field: String) throws(AdminError) {
        guard let existing, existing != value else { return }
        throw .invalid("\(seedField) and \(field) are one field, given different values; send one of them.")
    }
}
