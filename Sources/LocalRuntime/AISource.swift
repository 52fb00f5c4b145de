import ArgumentParser
import Handlers
import OpenAIProvider

/// Where local functions get their replies from.
enum AISource: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// The embedded responder, offline and deterministic: replay's default, so that fixtures replay
    /// the same on every machine whatever keys its shell holds.
    case embedded
    /// What each function's environment configures, as in a deployed Lambda: the OpenAI-compatible
    /// provider when `AI_API_KEY` is set (template, then process environment), else the embedded responder.
    case environment

    func provider(environment: [String: String]) throws -> any AIProvider {
        switch self {
        case .embedded: EmbeddedResponder()
        case .environment: try AIProviderSelection.provider(environment: environment)
        }
    }
}
