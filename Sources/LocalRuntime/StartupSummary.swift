import ArgumentParser
import Foundation
import Handlers
import NIOCore
import OpenAIProvider

/// The default of every command's `--state`: `STATE_PATH` when the environment sets it (the name
/// the deployed `bootstrap` reads for its SQLite file), else `.local-runtime/state.sqlite`. One
/// variable moves `serve`, `invoke`, `start-lambda` and the admin commands together, so that a
/// session, or a test, keeps its state and admin secret apart from the checkout's.
enum StatePath {
    static let fallback = ".local-runtime/state.sqlite"

    static var `default`: String {
        let configured = ProcessInfo.processInfo.environment["STATE_PATH"]?.trimmed() ?? ""
        return configured.isEmpty ? fallback : configured
    }

    /// The folder of the state file: the only place local-runtime writes what functions need
    /// (unpacked code, the Node client).
    static func directory(of statePath: String) -> String {
        URL(fileURLWithPath: statePath).deletingLastPathComponent().path
    }
}

/// What `serve` and `start-lambda` print before they listen: which AI provider answers, and where
/// state lives. Both are decided by the environment, which a user may not know is set (or unset).
enum StartupSummary {
    /// Whether the summary says anything about `template`: the provider and the store are this
    /// project's chat functions' settings, which another app's functions neither read nor use.
    static func concerns(_ template: Template) -> Bool {
        template.functions.values.contains { $0.builtIn != nil }
    }

    /// The provider the chat functions get, decided as they decide it (`AIProviderSelection`) from
    /// the template's and the process's environment.
    static func aiLine(template: Template, processEnvironment: [String: String], source: AISource = .environment) -> String {
        guard source == .environment else { return "AI provider: embedded responder (--ai embedded)" }
        let function = template.functions.values.first { $0.builtIn == .chat } ?? template.functions.values.first
        let environment = LocalEnvironment.merged(template: function?.environment ?? [:], process: processEnvironment)
        do {
            guard let provider = try OpenAIProvider(environment: environment, client: OpenAIProvider.sharedClient) else {
                return "AI provider: embedded responder (AI_API_KEY is not set; set it, with AI_API_URL and AI_MODEL, for an OpenAI-compatible API)"
            }
            return "AI provider: OpenAI-compatible API at \(provider.settings.baseURL), model \(provider.settings.model) (AI_API_URL, AI_MODEL)"
        } catch {
            return "AI provider: not usable, every reply fails: \(error)"
        }
    }

    static func storeLine(_ store: StoreOption, statePath: String) -> String {
        switch store {
        case .sqlite: "store: sqlite \(statePath)"
        case .dynamodb: "store: dynamodb (TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB or the region's endpoint)"
        }
    }
}

/// A listener's port is taken: one line saying so and how to choose another, rather than NIO's
/// `bind(descriptor:ptr:bytes:): Address already in use (errno: 98)`.
enum PortInUse {
    /// Runs `serve`, exiting 1 with one clear line when `port` is in use.
    static func explaining(port: Int, _ serve: () async throws -> Void) async throws {
        do {
            try await serve()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            FileHandle.standardError.write(Data("local-runtime: port \(port) is in use; pass --port\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// The environment the commands that run functions read, for their `--help`: one paragraph each,
/// left to ArgumentParser to wrap at the terminal's width.
enum EnvironmentHelp {
    static let functions = """
        Environment: AI_API_KEY selects an OpenAI-compatible provider (unset: the embedded responder answers), \
        at AI_API_URL (default Groq's https://api.groq.com/openai/v1) with AI_MODEL (default Groq's \
        llama-3.3-70b-versatile); ADMIN_JWT_SECRET signs admin tokens (default: a random secret kept beside \
        the state file); CONVERSATION_TOKEN_SECRET, ALLOWED_ORIGINS, ALLOW_MISSING_ORIGIN and the other handler \
        settings of the README's configuration table override template.json's values.
        """

    static let statePath = "STATE_PATH is the default of --state."

    static let state = statePath + " " + """
        --store dynamodb reads TABLE_NAME (default ChatStateTable), \
        AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL (DYNAMODB_ENDPOINT is an alias; default: the region's \
        endpoint), AWS_REGION or AWS_DEFAULT_REGION, and credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY \
        or the shared credentials file's AWS_PROFILE.
        """
}
