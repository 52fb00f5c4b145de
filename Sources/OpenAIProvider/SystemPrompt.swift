import Handlers

/// The system message built from a widget's settings: its own instructions, then its greeting and
/// knowledge entries as facts to answer from, so that the model speaks for this widget's business
/// and not from general knowledge.
enum SystemPrompt {
    static let defaultInstructions = "You are a friendly support assistant on a website's chat widget. Answer briefly and politely."

    /// Knowledge beyond this many characters is left out: prompts cost tokens on every turn, and a
    /// widget's knowledge base is not bounded by anything else.
    static let knowledgeBudget = 12_000

    static func text(for settings: WidgetSettings) -> String {
        var sections = [settings.systemPrompt.flatMap { $0.trimmed().isEmpty ? nil : $0.trimmed() } ?? defaultInstructions]
        if let greeting = settings.greeting?.trimmed(), !greeting.isEmpty {
            sections.append("Visitors are greeted with: \"\(greeting)\"")
        }
        var facts: [String] = []
        var used = 0
        for entry in settings.knowledge {
            let fact = "Q: \(entry.question.trimmed())\nA: \(entry.answer.trimmed())"
            guard used + fact.count <= knowledgeBudget else { break }
            facts.append(fact)
            used += fact.count
        }
        if !facts.isEmpty {
            sections.append("""
                Answer from these facts when they apply. If they don't cover a question about this business, \
                say you don't know rather than guess, and suggest contacting the team.

                \(facts.joined(separator: "\n\n"))
                """)
        }
        return sections.joined(separator: "\n\n")
    }
}
