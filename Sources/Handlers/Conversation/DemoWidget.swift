#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The widget the local runtime seeds on first run, so that a page on `localhost` can chat at once.
public enum DemoWidget {
    public static let id = "widget_demo_localhost"

    public static func make(createdAt: Date) -> WidgetConfig {
        WidgetConfig(
            widgetId: id,
            name: "Local demo widget",
            allowedDomains: ["localhost", "127.0.0.1"],
            settings: WidgetSettings(
                greeting: "Hi! I'm the demo assistant running on your machine. Ask me about opening hours, shipping, returns or pricing.",
                systemPrompt: "You are a friendly support assistant for a small online shop. Answer briefly.",
                knowledge: [
                    KnowledgeEntry(question: "What are your opening hours?",
                                   answer: "We're open Monday to Friday, 9:00 to 17:00, and Saturday 10:00 to 14:00."),
                    KnowledgeEntry(question: "How long does shipping take?",
                                   answer: "Orders ship within one business day; delivery usually takes 2 to 4 days."),
                    KnowledgeEntry(question: "What is your return policy? Can I send something back?",
                                   answer: "You can return any item within 30 days for a full refund. Just reply with your order number to start a return."),
                    KnowledgeEntry(question: "How much does it cost? What are the prices and plans?",
                                   answer: "The Starter plan is free, Pro is 12 euros per month and Team is 49 euros per month."),
                    KnowledgeEntry(question: "How do I contact a person, a human or a support agent?",
                                   answer: "You can reach our team at support through the contact page; we answer within one business day."),
                    KnowledgeEntry(question: "Where is my order? How do I track my package?",
                                   answer: "Once your order ships you get an email with its tracking link. If it hasn't arrived after 4 days, reply with your order number and we'll look into it."),
                ],
                colors: ["primary": "#2563eb", "background": "#ffffff"]
            ),
            createdAt: createdAt
        )
    }
}
