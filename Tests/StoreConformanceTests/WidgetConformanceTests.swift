import Foundation
import Handlers
import Testing

@Suite("Store conformance: widgets")
struct WidgetConformanceTests {
    @Test("a stored widget reads back equal; an unknown id reads nil", arguments: StoreKind.allCases)
    func roundTrip(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let stored = widget("widget_roundtrip_0001", domains: ["customer.com"])
            try await store.putWidget(stored)
            #expect(try await store.widget(id: stored.widgetId) == stored)
            #expect(try await store.widget(id: "widget_unknown_00001") == nil)
        }
    }

    @Test("putting a widget again replaces it", arguments: StoreKind.allCases)
    func replace(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.putWidget(widget("widget_replaced_0001", name: "Old"))
            var updated = widget("widget_replaced_0001", name: "New")
            updated.updatedAt = epoch.addingTimeInterval(60)
            try await store.putWidget(updated)
            #expect(try await store.widget(id: updated.widgetId) == updated)
            #expect(try await store.widgets(after: nil, limit: 10).count == 1)
        }
    }

    @Test("widgets are listed in id order, a page at a time after the cursor", arguments: StoreKind.allCases)
    func paging(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            let ids = (1...5).map { "widget_page_\(String(format: "%08d", $0))" }
            for id in ids.shuffled() { try await store.putWidget(widget(id)) }
            #expect(try await store.widgets(after: nil, limit: 2).map(\.widgetId) == Array(ids[0..<2]))
            #expect(try await store.widgets(after: ids[1], limit: 2).map(\.widgetId) == Array(ids[2..<4]))
            #expect(try await store.widgets(after: ids[3], limit: 2).map(\.widgetId) == [ids[4]])
            #expect(try await store.widgets(after: ids[4], limit: 2).isEmpty)
            #expect(try await store.widgets(after: nil, limit: 0).isEmpty)
        }
    }

    @Test("an active widget allows exactly the domains it lists, normalised; entries AllowedDomain refuses (wildcards, public suffixes) none",
          arguments: StoreKind.allCases)
    func domains(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.putWidget(widget("widget_domains_0001", domains: ["customer.com", "https://App.Example.org:443/", "*.shop.net", "co.uk", "::1"]))
            #expect(try await store.activeWidgetAllows(domain: "customer.com"))
            #expect(try await store.activeWidgetAllows(domain: "app.example.org"))
            #expect(try await store.activeWidgetAllows(domain: "[::1]"))
            #expect(try await !store.activeWidgetAllows(domain: "shop.net"))
            #expect(try await !store.activeWidgetAllows(domain: "co.uk"))
            #expect(try await !store.activeWidgetAllows(domain: "app.customer.com"))
            #expect(try await !store.activeWidgetAllows(domain: "evilcustomer.com"))
        }
    }

    @Test("deactivating a widget or dropping a domain withdraws it; another widget's listing stays", arguments: StoreKind.allCases)
    func withdrawal(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.putWidget(widget("widget_first_000001", domains: ["a.com", "b.com"]))
            try await store.putWidget(widget("widget_second_00001", domains: ["b.com"]))
            try await store.putWidget(widget("widget_first_000001", domains: ["a.com", "c.com"]))
            #expect(try await store.activeWidgetAllows(domain: "c.com"))
            #expect(try await store.activeWidgetAllows(domain: "b.com"))
            try await store.putWidget(widget("widget_second_00001", domains: ["b.com"], active: false))
            #expect(try await !store.activeWidgetAllows(domain: "b.com"))
            try await store.putWidget(widget("widget_first_000001", domains: ["a.com", "c.com"], active: false))
            #expect(try await !store.activeWidgetAllows(domain: "a.com"))
            try await store.putWidget(widget("widget_first_000001", domains: ["a.com"]))
            #expect(try await store.activeWidgetAllows(domain: "a.com"))
            #expect(try await !store.activeWidgetAllows(domain: "c.com"))
        }
    }

    @Test("concurrent writers of one widget leave exactly the last one's domains", arguments: StoreKind.allCases)
    func concurrentWriters(_ kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask { try await store.putWidget(widget("widget_contended_01", domains: ["d\(index).com"])) }
                }
                try await group.waitForAll()
            }
            let winner = try #require(try await store.widget(id: "widget_contended_01"))
            for index in 0..<8 {
                let domain = "d\(index).com"
                #expect(try await store.activeWidgetAllows(domain: domain) == winner.allowedDomains.contains(domain))
            }
        }
    }
}
