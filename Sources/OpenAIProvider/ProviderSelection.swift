import AsyncHTTPClient
import Handlers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension OpenAIProvider {
    /// A setting that cannot work; reported at start-up (Lambda init, `local-runtime` start) rather
    /// than as a failed reply on every message.
    public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The provider the environment configures (`AI_API_KEY`, `AI_API_URL`, `AI_MODEL`), or nil when
    /// no key is set: the template always carries Groq's URL, so the key alone decides. `client` is
    /// only evaluated when there is a key: without one, nothing starts AsyncHTTPClient's threads.
    public init?(environment: [String: String], client: @autoclosure () -> HTTPClient = OpenAIProvider.sharedClient) throws {
        func value(_ name: String) -> String? {
            guard let value = environment[name]?.trimmed(), !value.isEmpty else { return nil }
            return value
        }
        guard let key = value("AI_API_KEY") else { return nil }
        let base = value("AI_API_URL") ?? Settings.defaultBaseURL
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw ConfigurationError(description: "AI_API_URL must be an http(s) API root like \(Settings.defaultBaseURL), not \"\(base)\"")
        }
        self.init(settings: Settings(baseURL: base, apiKey: key, model: value("AI_MODEL") ?? Settings.defaultModel), client: client())
    }
}

/// Which provider a function gets from its environment — shared by the Lambda `bootstrap` and the
/// local runtime so that both decide alike.
public enum AIProviderSelection {
    /// The OpenAI-compatible provider when `AI_API_KEY` is set, else the embedded responder, which
    /// works offline and deterministically.
    public static func provider(environment: [String: String], client: @autoclosure () -> HTTPClient = OpenAIProvider.sharedClient) throws -> any AIProvider {
        try OpenAIProvider(environment: environment, client: client()) ?? EmbeddedResponder()
    }
}
