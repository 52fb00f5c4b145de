import Foundation
import Handlers
import Testing

@Suite("Admin API: widgets")
struct AdminWidgetTests {
    static let body = #"{"widget_id":"widget_acme_support_01","name":"Acme support","allowed_domains":["acme.example","https://app.acme.example/"],"limits":{"max_messages_per_minute":20},"settings":{"greeting":"Hi from Acme"}}"#

    @Test("a created widget is stored normalised and read back the same")
    func createAndGet() async throws {
        let harness = try await Harness.admin()
        let created = try await harness.admin("POST", "widgets", body: Self.body)
        #expect(created.status == 201)
        let widget = try #require(created.body["widget"])
        #expect(widget["allowed_domains"] == .array([.string("acme.example"), .string("app.acme.example")]))
        #expect(widget["limits"]?["max_messages_per_minute"] == .number(20))
        #expect(widget["limits"]?["max_messages_per_day"] == .number(1000), "unnamed limits keep their defaults")
        #expect(widget["is_active"] == .bool(true))
        let read = try await harness.admin("GET", "widgets/widget_acme_support_01")
        #expect(read.status == 200)
        #expect(read.body["widget"] == widget)
        #expect(try await harness.store.activeWidgetAllows(domain: "app.acme.example"))
    }

    @Test("creating an id that exists is 409 and changes nothing")
    func duplicate() async throws {
        let harness = try await Harness.admin()
        _ = try await harness.admin("POST", "widgets", body: Self.body)
        let again = try await harness.admin("POST", "widgets", body: #"{"widget_id":"widget_acme_support_01","name":"Other","allowed_domains":["other.example"]}"#)
        #expect(again.status == 409)
        #expect(again.error == "widget_exists")
        #expect(try await harness.store.widget(id: "widget_acme_support_01")?.name == "Acme support")
    }

    @Test("a widget created without an id gets a valid generated one")
    func generatedId() async throws {
        let harness = try await Harness.admin()
        let created = try await harness.admin("POST", "widgets", body: #"{"name":"New","allowed_domains":["new.example"]}"#)
        let id = try #require(created.body["widget"]?["widget_id"]?.stringValue)
        #expect(Identifiers.isValidWidgetId(id))
        #expect(try await harness.store.widget(id: id) != nil)
    }

    @Test("invalid widget bodies are 400 with the field named", arguments: [
        (#"{"name":"x","allowed_domains":["ok.example","not a domain"]}"#, "allowed_domains[1]"),
        (#"{"name":"x","allowed_domains":[]}"#, "allowed_domains"),
        (#"{"allowed_domains":["ok.example"]}"#, "name is required"),
        (#"{"name":"x"}"#, "allowed_domains is required"),
        (#"{"name":"x","allowed_domains":["ok.example"],"alowed_domains":[]}"#, "Unknown field alowed_domains"),
        (#"{"name":"x","allowed_domains":["ok.example"],"limits":{"max_messages_per_minute":0}}"#, "limits.max_messages_per_minute"),
        (#"{"name":"x","allowed_domains":["ok.example"],"limits":{"per_minute":5}}"#, "Unknown limit per_minute"),
        (#"{"name":"x","allowed_domains":["ok.example"],"settings":{"knowledge":"yes"}}"#, "settings are not valid"),
        (#"{"name":"x","allowed_domains":["ok.example"],"is_active":"yes"}"#, "is_active"),
        (#"{"widget_id":"Widget-Bad","name":"x","allowed_domains":["ok.example"]}"#, "widget_id"),
        (#"["name"]"#, "JSON object"),
        (#"{"name":"#, "not valid JSON"),
        ("", "body is required"),
    ])
    func invalid(_ body: String, _ mentioned: String) async throws {
        let harness = try await Harness.admin()
        let answer = try await harness.admin("POST", "widgets", body: body.isEmpty ? nil : body)
        #expect(answer.status == 400)
        #expect(answer.error == "invalid_request")
        #expect(answer.message.contains(mentioned), "\(answer.message)")
        #expect(try await harness.store.widgets(after: nil, limit: 10).count == 1, "only the demo widget")
    }

    @Test("PATCH merges limits and settings key by key and keeps the rest")
    func patch() async throws {
        let harness = try await Harness.admin()
        _ = try await harness.admin("POST", "widgets", body: Self.body)
        harness.clock.advance(60)
        let patched = try await harness.admin("PATCH", "widgets/widget_acme_support_01",
                                              body: #"{"name":"Acme help","limits":{"min_message_interval_ms":0},"settings":{"system_prompt":"Be brief."}}"#)
        #expect(patched.status == 200)
        let widget = try #require(try await harness.store.widget(id: "widget_acme_support_01"))
        #expect(widget.name == "Acme help")
        #expect(widget.limits.maxMessagesPerMinute == 20)
        #expect(widget.limits.minMessageIntervalMs == 0)
        #expect(widget.settings.greeting == "Hi from Acme")
        #expect(widget.settings.systemPrompt == "Be brief.")
        #expect(widget.allowedDomains == ["acme.example", "app.acme.example"])
        #expect(widget.updatedAt.timeIntervalSince(widget.createdAt) == 60)
    }

    @Test("PATCH cannot change the id, and a missing widget is 404")
    func patchRefusals() async throws {
        let harness = try await Harness.admin()
        _ = try await harness.admin("POST", "widgets", body: Self.body)
        #expect(try await harness.admin("PATCH", "widgets/widget_acme_support_01", body: #"{"widget_id":"widget_other_0000001"}"#).status == 400)
        let missing = try await harness.admin("PATCH", "widgets/widget_missing_0000001", body: #"{"name":"x"}"#)
        #expect(missing.status == 404)
        #expect(missing.error == "not_found")
        #expect(try await harness.admin("GET", "widgets/not-a-widget-id").status == 400)
    }

    @Test("DELETE deactivates: the record stays and the widget stops serving chat")
    func deactivate() async throws {
        let harness = try await Harness.admin()
        let deleted = try await harness.admin("DELETE", "widgets/\(DemoWidget.id)")
        #expect(deleted.status == 200)
        #expect(deleted.body["widget"]?["is_active"] == .bool(false))
        #expect(try await harness.store.widget(id: DemoWidget.id)?.isActive == false)
        let chat = try await harness.chat(Harness.chatBody())
        #expect(chat.status == 404)
        #expect(chat.body?["error"] == .string("widget_not_found_or_inactive"))
    }

    @Test("the list pages through every widget in id order by next_cursor")
    func pagination() async throws {
        let harness = try await Harness.admin()
        let ids = (1...7).map { "widget_page_test_\(String(format: "%04d", $0))" }
        for id in ids.shuffled() {
            #expect(try await harness.admin("POST", "widgets", body: #"{"widget_id":"\#(id)","name":"P","allowed_domains":["p.example"]}"#).status == 201)
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            var query = ["limit": "3"]
            query["cursor"] = cursor
            let page = try await harness.admin("GET", "widgets", query: query)
            #expect(page.status == 200)
            let widgets = page.body["widgets"]?.arrayValue ?? []
            #expect(widgets.count <= 3)
            seen += widgets.compactMap { $0["widget_id"]?.stringValue }
            cursor = page.body["next_cursor"]?.stringValue
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == (ids + [DemoWidget.id]).sorted())
        #expect(pages == 3)
        #expect(try await harness.admin("GET", "widgets", query: ["limit": "0"]).status == 400)
        #expect(try await harness.admin("GET", "widgets", query: ["limit": "ten"]).message.contains("limit"))
    }

    @Test("unknown routes are 404 and known routes with the wrong method 405 naming the methods they take in Allow")
    func routes() async throws {
        let harness = try await Harness.admin()
        #expect(try await harness.admin("GET", "nothing/here").status == 404)
        let wrong = try await harness.admin("PUT", "widgets")
        #expect(wrong.status == 405)
        #expect(wrong.error == "method_not_allowed")
        #expect(wrong.headers["allow"] == "GET, POST")
        #expect(try await harness.admin("GET", "retention/purge").status == 405)
    }

    /// The legacy "Create Widget Configuration" request, as earlier integration guides documented it (less its `// ... other widget
    /// settings` comment, which JSON does not allow).
    static let seedBody = """
        {
            "widget_id": "widget_abc123_def456",
            "widget_name": "Customer Support Widget",
            "agent_id": "boss-support",
            "allowed_domains": ["customer-website.com", "app.customer.com"],
            "settings": {
                "maxMessagesPerHour": 600,
                "maxMessagesPerDay": 1000,
                "primaryColor": "#667eea",
                "greeting": "Hi! How can I help?"
            }
        }
        """

    @Test("the legacy create body is accepted and answered with the legacy response's fields")
    func seedBody() async throws {
        let harness = try await Harness.admin()
        let created = try await harness.admin("POST", "widgets", body: Self.seedBody)
        #expect(created.status == 201, "\(created.message)")
        #expect(created.body["success"] == .bool(true))
        #expect(created.body["widget_id"] == .string("widget_abc123_def456"))
        #expect(created.body["allowed_domains"] == .array([.string("customer-website.com"), .string("app.customer.com")]))
        #expect(created.body["created_at"] == .string(ISO8601.string(harness.clock.now())))
        let widget = try #require(created.body["widget"])
        #expect(widget["name"] == .string("Customer Support Widget"))
        #expect(widget["settings"]?["agent_id"] == .string("boss-support"))
        #expect(widget["settings"]?["greeting"] == .string("Hi! How can I help?"))
        #expect(widget["settings"]?["colors"]?["primary"] == .string("#667eea"))
        #expect(widget["limits"]?["max_messages_per_hour"] == .number(600))
        #expect(try await harness.admin("GET", "widgets/widget_abc123_def456").body["widget"] == widget)
        #expect(try await harness.store.activeWidgetAllows(domain: "customer-website.com"))
    }

    @Test("the legacy body's names map onto the widget's: limits from settings, colours, agent_id; on create and on PATCH")
    func seedNamesMap() async throws {
        let harness = try await Harness.admin()
        let created = try await harness.admin("POST", "widgets", body: """
            {"widget_name":"Seeded","agent_id":"agent-7","allowed_domains":["seeded.example"],
             "settings":{"maxMessagesPerMinute":7,"maxMessagesPerHour":420,"maxMessagesPerDay":900,"primaryColor":"#111111",
                         "backgroundColor":"#ffffff","greeting":"Hello"}}
            """)
        #expect(created.status == 201, "\(created.message)")
        let id = try #require(created.body["widget_id"]?.stringValue)
        #expect(created.body["widget"]?["widget_id"] == .string(id))
        let widget = try #require(try await harness.store.widget(id: id))
        #expect(widget.name == "Seeded")
        #expect(widget.limits.maxMessagesPerMinute == 7)
        #expect(widget.limits.maxMessagesPerHour == 420)
        #expect(widget.limits.maxMessagesPerDay == 900)
        #expect(widget.limits.maxMessageLength == 2000, "unnamed limits keep their defaults")
        #expect(widget.settings.colors == ["primary": "#111111", "background": "#ffffff"])
        #expect(widget.settings.greeting == "Hello")
        let patched = try await harness.admin("PATCH", "widgets/\(id)", body: #"{"widget_name":"Renamed","agent_id":"agent-8","settings":{"maxMessagesPerDay":950}}"#)
        #expect(patched.status == 200, "\(patched.message)")
        #expect(patched.body["widget"]?["name"] == .string("Renamed"))
        #expect(patched.body["widget"]?["settings"]?["agent_id"] == .string("agent-8"))
        #expect(try await harness.store.widget(id: id)?.limits.maxMessagesPerDay == 950)
        #expect(try await harness.store.widget(id: id)?.limits.maxMessagesPerHour == 420)
        let cleared = try await harness.admin("PATCH", "widgets/\(id)", body: ##"{"agent_id":null,"settings":{"primaryColor":"#222222"}}"##)
        #expect(cleared.status == 200, "\(cleared.message)")
        #expect(try await harness.store.widget(id: id)?.settings.agentId == nil)
        #expect(try await harness.store.widget(id: id)?.settings.colors == ["primary": "#222222", "background": "#ffffff"], "one colour changes, the others stay")
    }

    @Test("a body naming one field both ways is accepted when both agree and 400 when they differ", arguments: [
        (#"{"name":"A","widget_name":"B","allowed_domains":["ok.example"]}"#, "widget_name"),
        (#"{"name":"A","allowed_domains":["ok.example"],"limits":{"max_messages_per_hour":100},"settings":{"maxMessagesPerHour":200}}"#, "maxMessagesPerHour"),
        (##"{"name":"A","allowed_domains":["ok.example"],"settings":{"colors":{"primary":"#000000"},"primaryColor":"#ffffff"}}"##, "primaryColor"),
        (#"{"name":"A","allowed_domains":["ok.example"],"agent_id":"one","settings":{"agent_id":"two"}}"#, "agent_id"),
    ])
    func contradictions(_ body: String, _ mentioned: String) async throws {
        let harness = try await Harness.admin()
        let answer = try await harness.admin("POST", "widgets", body: body)
        #expect(answer.status == 400)
        #expect(answer.error == "invalid_request")
        #expect(answer.message.contains(mentioned), "\(answer.message)")
        let agreeing = try await harness.admin("POST", "widgets", body: #"{"name":"A","widget_name":"A","allowed_domains":["ok.example"],"limits":{"max_messages_per_hour":100},"settings":{"maxMessagesPerHour":100}}"#)
        #expect(agreeing.status == 201, "\(agreeing.message)")
    }

    @Test("seed-named values are checked like the widget's own, naming the field as sent", arguments: [
        (#"{"widget_name":"","allowed_domains":["ok.example"]}"#, "widget_name"),
        (#"{"widget_name":"A","allowed_domains":["ok.example"],"settings":{"maxMessagesPerHour":"600"}}"#, "settings.maxMessagesPerHour"),
        (#"{"widget_name":"A","allowed_domains":["ok.example"],"settings":{"maxMessagesPerDay":0}}"#, "settings.maxMessagesPerDay"),
        (#"{"widget_name":"A","allowed_domains":["ok.example"],"settings":{"primaryColor":5}}"#, "settings.primaryColor"),
        (#"{"widget_name":"A","allowed_domains":["ok.example"],"agent_id":7}"#, "agent_id"),
        (#"{"widget_name":"A","allowed_domains":["ok.example"],"settings":{"fontSize":12}}"#, "Unknown setting fontSize"),
    ])
    func seedValuesChecked(_ body: String, _ mentioned: String) async throws {
        let harness = try await Harness.admin()
        let answer = try await harness.admin("POST", "widgets", body: body)
        #expect(answer.status == 400)
        #expect(answer.message.contains(mentioned), "\(answer.message)")
        #expect(try await harness.store.widgets(after: nil, limit: 10).count == 1, "only the demo widget")
    }
}
