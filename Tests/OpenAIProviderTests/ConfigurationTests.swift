import Foundation
import Handlers
@testable import OpenAIProvider
import Testing

@Suite("Provider configuration and system prompt")
struct ConfigurationTests {
    @Test("without AI_API_KEY the embedded responder answers, even with the template's AI_API_URL")
    func embeddedWithoutKey() throws {
        #expect(try OpenAIProvider(environment: ["AI_API_URL": "https://api.groq.com/openai/v1", "AI_API_KEY": " "]) == nil)
        #expect(try AIProviderSelection.provider(environment: [:]) is EmbeddedResponder)
    }

    @Test("a key alone selects Groq's API with llama-3.3-70b-versatile, temperature 0.7 and 500 tokens")
    func defaults() throws {
        let provider = try #require(try OpenAIProvider(environment: ["AI_API_KEY": "gsk_test"]))
        #expect(provider.settings == OpenAIProvider.Settings(
            baseURL: "https://api.groq.com/openai/v1", apiKey: "gsk_test", model: "llama-3.3-70b-versatile", temperature: 0.7, maxTokens: 500))
        #expect(provider.settings.completionsURL == "https://api.groq.com/openai/v1/chat/completions")
    }

    @Test("AI_API_URL and AI_MODEL override the defaults; a trailing slash is tolerated")
    func overrides() throws {
        let provider = try #require(try OpenAIProvider(environment: [
            "AI_API_KEY": "k", "AI_API_URL": "http://127.0.0.1:8080/v1/", "AI_MODEL": "qwen2.5"]))
        #expect(provider.settings.completionsURL == "http://127.0.0.1:8080/v1/chat/completions")
        #expect(provider.settings.model == "qwen2.5")
    }

    @Test("an AI_API_URL that is not an http(s) API root is a start-up error", arguments: ["groq", "ftp://example.com/v1", "https://x.test/v1?a=b"])
    func invalidURL(url: String) {
        #expect(throws: OpenAIProvider.ConfigurationError.self) {
            try OpenAIProvider(environment: ["AI_API_KEY": "k", "AI_API_URL": url])
        }
    }

    @Test("the system prompt is the widget's instructions, its greeting, then its knowledge as facts")
    func systemPrompt() {
        let settings = WidgetSettings(greeting: "Welcome!", systemPrompt: "You are Ada, the bakery's assistant.",
                                      knowledge: [KnowledgeEntry(question: "Gluten-free?", answer: "Yes, on Fridays.")])
        let prompt = SystemPrompt.text(for: settings)
        #expect(prompt.hasPrefix("You are Ada, the bakery's assistant.\n\nVisitors are greeted with: \"Welcome!\""))
        #expect(prompt.hasSuffix("Q: Gluten-free?\nA: Yes, on Fridays."))
    }

    @Test("a widget with no settings still gets sensible instructions and no empty sections")
    func emptySettings() {
        #expect(SystemPrompt.text(for: WidgetSettings()) == SystemPrompt.defaultInstructions)
    }

    @Test("knowledge past the budget is left out, whole entries at a time")
    func knowledgeBudget() {
        let long = String(repeating: "x", count: SystemPrompt.knowledgeBudget / 2)
        let settings = WidgetSettings(knowledge: (1...3).map { KnowledgeEntry(question: "Q\($0)", answer: long) })
        let prompt = SystemPrompt.text(for: settings)
        #expect(prompt.contains("Q: Q1"))
        #expect(!prompt.contains("Q: Q2"))
    }
}
