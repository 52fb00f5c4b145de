import Foundation
import Handlers
import SQLiteStore
import Synchronization

/// A clock that replay sets to each event's recorded time, so that rate limits replay exactly.
final class ReplayClock: WallClock {
    private let current: Mutex<Date>

    init(_ date: Date) { current = Mutex(date) }

    func now() -> Date { current.withLock { $0 } }
    func set(_ date: Date) { current.withLock { $0 = date } }
}

/// A frame a handler posted to a connection.
struct PostedFrame: Sendable, Equatable {
    var connectionId: String
    var endpoint: String
    var data: [UInt8]
}

/// Collects what handlers post instead of sending it anywhere: `invoke` prints the frames and
/// `replay` checks them against expectations.
final class CollectingPoster: ConnectionPoster {
    private let frames = Mutex<[PostedFrame]>([])

    func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws {
        frames.withLock { $0.append(PostedFrame(connectionId: connectionId, endpoint: endpoint, data: data)) }
    }

    /// The frames posted since the last call, in order.
    func drain() -> [PostedFrame] {
        frames.withLock { frames in
            defer { frames.removeAll() }
            return frames
        }
    }
}

/// The environment local functions see: local defaults, then the template's literal values, then
/// the process environment, later sources winning.
enum LocalEnvironment {
    static let defaults = ["DEFAULT_WIDGET_ID": DemoWidget.id]

    static func merged(template: [String: String], process: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        defaults.merging(template) { $1 }.merging(process.filter { templateOrKnown($0.key, template) }) { $1 }
    }

    /// Process variables override only the names the template or the local defaults declare, plus
    /// the settings the handlers read; unrelated shell variables stay out of the functions.
    private static func templateOrKnown(_ name: String, _ template: [String: String]) -> Bool {
        template[name] != nil || defaults[name] != nil || knownSettings.contains(name)
    }

    static let knownSettings: Set<String> = [
        "ALLOWED_ORIGINS", "FRONTEND_URL", "ALLOW_MISSING_ORIGIN", "IP_RATE_LIMIT_PER_MINUTE", "AUTO_BLOCK_AFTER_WARNINGS",
        "COOLDOWN_PERIOD_MINUTES", "MAX_BODY_BYTES", "DEFAULT_WIDGET_ID", "WEBSOCKET_MANAGEMENT_ENDPOINT", "ADMIN_JWT_SECRET",
        "ADMIN_TOKEN_MAX_LIFETIME_SECONDS", "ADMIN_JWT_ISSUER", "ADMIN_JWT_AUDIENCE", "ADMIN_ORIGIN", "RETENTION_DAYS", "AI_API_URL", "AI_API_KEY", "AI_MODEL",
        // Deployed from Secrets Manager (template.json), so the template names it on sendMessage only
        // through a dynamic reference: a local run takes it from the shell.
        "CONVERSATION_TOKEN_SECRET",
    ]
}

/// The functions of a template, wired to local dependencies.
struct LocalFunctions: Sendable {
    let template: Template
    let store: any Store
    let clock: any WallClock
    let poster: any ConnectionPoster
    /// Each function, or why it could not be set up — the local counterpart of a Lambda init error,
    /// returned by every invocation of that function.
    private let built: [String: Result<AnyLambdaFunction, InvocationError>]

    /// `telemetry` receives every invocation's report (the stage's `/metrics`); nil counts nothing.
    init(template: Template, store: any Store, clock: any WallClock, poster: any ConnectionPoster, ai: AISource = .environment,
         processEnvironment: [String: String] = ProcessInfo.processInfo.environment, telemetry: (any TelemetrySink)? = nil) {
        self.template = template
        self.store = store
        self.clock = clock
        self.poster = poster
        var built: [String: Result<AnyLambdaFunction, InvocationError>] = [:]
        for (logicalId, function) in template.functions {
            guard let name = function.builtIn else { continue }
            let environment = LocalEnvironment.merged(template: function.environment, process: processEnvironment)
            do {
                let dependencies = Dependencies(store: store, ai: try ai.provider(environment: environment), poster: poster, clock: clock,
                                                configuration: Configuration(environment: environment), telemetry: telemetry)
                built[logicalId] = .success(Functions.make(name, dependencies: dependencies))
            } catch {
                FileHandle.standardError.write(Data("\(logicalId): init failed: \(error)\n".utf8))
                built[logicalId] = .failure(InvocationError(errorType: "Runtime.InitError", errorMessage: "\(error)"))
            }
        }
        self.built = built
    }

    func function(_ logicalId: String) -> AnyLambdaFunction? { try? built[logicalId]?.get() }

    /// Invokes a function with a context like Lambda's: a fresh request id and the template's timeout.
    func invoke(_ function: Template.Function, payload: [UInt8], requestId: String = AWSIdentifiers.lambdaRequestId()) async throws -> [UInt8] {
        guard let handler = try built[function.logicalId]?.get() else {
            throw InvocationError(errorType: "Runtime.UnknownFunction", errorMessage: function.logicalId)
        }
        let context = InvocationContext(
            requestId: requestId, deadline: Date().addingTimeInterval(function.timeout),
            invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:\(function.logicalId)")
        return try await handler.invoke(payload, context: context)
    }

    /// Seeds the demo widget unless a widget with its id exists, so a first run can chat at once.
    static func seedDemoWidget(in store: any Store, now: Date) async throws {
        if try await store.widget(id: DemoWidget.id) == nil {
            try await store.putWidget(DemoWidget.make(createdAt: now))
        }
    }
}
