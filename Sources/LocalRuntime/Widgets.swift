import ArgumentParser
import Foundation
import Handlers
import SQLiteStore

struct Widgets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manages the widget configurations in the local state file.",
        subcommands: [Put.self, List.self])

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates or replaces a widget from a JSON file (the admin API's widget shape: widget_id, name, allowed_domains, limits, settings).")

        @Argument(help: "The widget JSON file, or - for standard input.")
        var file: String

        @Option(name: .long, help: "The SQLite state file.")
        var state = ".local-runtime/state.sqlite"

        func run() async throws {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else { throw ValidationError("cannot read \(file)") }
            let widget = try Self.decode(data)
            try await SQLiteStore(.file(state)).putWidget(widget)
            print("stored \(widget.widgetId) (\(widget.allowedDomains.joined(separator: ", "))) in \(state)")
        }

        /// The widget in `data`, with its id and domains checked as the policy will read them.
        static func decode(_ data: Data) throws -> WidgetConfig {
            struct Input: Decodable {
                var widgetId: String
                var name: String?
                var allowedDomains: [String]
                var isActive: Bool?
                var limits: WidgetLimits?
                var settings: WidgetSettings?
                enum CodingKeys: String, CodingKey {
                    case name, limits, settings
                    case widgetId = "widget_id"
                    case allowedDomains = "allowed_domains"
                    case isActive = "is_active"
                }
            }
            let input: Input
            do {
                input = try JSONDecoder().decode(Input.self, from: data)
            } catch {
                throw ValidationError("not a widget: \(error)")
            }
            guard Identifiers.isValidWidgetId(input.widgetId) else {
                throw ValidationError("widget_id must match ^widget_[a-z0-9_]{12,64}$")
            }
            let invalid = input.allowedDomains.filter { AllowedDomain($0) == nil }
            guard invalid.isEmpty else { throw ValidationError("not valid domains: \(invalid.joined(separator: ", "))") }
            return WidgetConfig(widgetId: input.widgetId, name: input.name ?? input.widgetId, allowedDomains: input.allowedDomains,
                                isActive: input.isActive ?? true, limits: input.limits ?? WidgetLimits(),
                                settings: input.settings ?? WidgetSettings(), createdAt: Date())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists the widgets in the local state file.")

        @Option(name: .long, help: "The SQLite state file.")
        var state = ".local-runtime/state.sqlite"

        func run() async throws {
            let store = try SQLiteStore(.file(state))
            var cursor: String?
            repeat {
                let page = try await store.widgets(after: cursor, limit: 100)
                for widget in page {
                    print("\(widget.widgetId)  \(widget.isActive ? "active" : "inactive")  \(widget.allowedDomains.joined(separator: ","))  \(widget.name)")
                }
                cursor = page.count == 100 ? page.last?.widgetId : nil
            } while cursor != nil
        }
    }
}
