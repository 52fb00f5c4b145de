import ArgumentParser
import Foundation
import Handlers
import Hummingbird
import HummingbirdCore
import ManagementAPIClient
import NIOCore
import SQLiteStore
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs the template's WebSocket and HTTP APIs on one local port, like an API Gateway stage.")

    @Option(name: .long, help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "The port to listen on (0 picks a free one).")
    var port = 3001

    @Option(name: .long, help: "The SQLite state file.")
    var state = ".local-runtime/state.sqlite"

    @Option(name: .long, help: "Where state lives: sqlite (the --state file) or dynamodb (TABLE_NAME, AWS credentials and region from the environment; DYNAMODB_ENDPOINT for a local server).")
    var store: StoreOption = .sqlite

    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "Write every event handed to a handler into this directory as a replayable fixture.")
    var record: String?

    @Option(name: .long, help: "How in-process functions post replies: in-process (straight to the stage's connections) or http (through the @connections HTTP endpoint, the deployed code path).")
    var replyPath: ReplyPath = .inProcess

    @Option(name: .long, help: "Close WebSocket connections idle for this many seconds (API Gateway: 600).")
    var idleTimeout: Double = 600

    @Option(name: .long, help: "Close WebSocket connections open for this many seconds (API Gateway: 7200).")
    var hardTimeout: Double = 7200

    @OptionGroup var templateOptions: TemplateOptions

    func validate() throws {
        guard idleTimeout > 0, hardTimeout > 0 else { throw ValidationError("timeouts must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
    }

    func run() async throws {
        let template = try templateOptions.load()
        let port = try port == 0 ? Self.freePort(host: host) : port
        let store = try await self.store.open(statePath: state, environment: ProcessInfo.processInfo.environment)
        try await LocalFunctions.seedDemoWidget(in: store, now: Date())
        var environment = try LocalAdminSecret.environment(ProcessInfo.processInfo.environment, statePath: state)
        try await Self.purgePastRetention(store, environment: environment)
        let managementEndpoint = "http://\(host):\(port)/\(template.stageName)"
        environment["WEBSOCKET_MANAGEMENT_ENDPOINT"] = managementEndpoint
        let settings = StageSettings(host: host, port: port, idleTimeout: idleTimeout, hardTimeout: hardTimeout)
        let registry = ConnectionRegistry()
        let functions: any FunctionInvoker
        let pool = LambdaPool(log: { StageLog.write($0) })
        if let bootstrapPath = runtimeOptions.bootstrapPath {
            environment["STORE"] = self.store.rawValue
            environment["STATE_PATH"] = URL(fileURLWithPath: state).path
            functions = BootstrapInvoker(pool: pool, bootstrapPath: bootstrapPath, environment: environment)
        } else {
            let poster: any ConnectionPoster = switch replyPath {
            case .http: HTTPConnectionPoster()
            case .inProcess:
                StageReplyPoster(endpoint: managementEndpoint,
                                 posting: ConnectionPosting(registry: registry, maxMessageBytes: settings.maxMessageBytes),
                                 http: HTTPConnectionPoster())
            }
            functions = LocalFunctions(template: template, store: store, clock: SystemClock(), poster: poster,
                                       processEnvironment: environment)
        }
        let stage = Stage(template: template, invoker: functions, settings: settings,
                          recorder: try record.map { try EventRecorder(directory: $0) }, registry: registry)
        do {
            try await stage.run()
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    /// A port nobody listens on now, for `--port 0`: the functions must know the stage's address
    /// before it starts, to post replies through `@connections`.
    static func freePort(host: String) throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ValidationError("cannot open a socket to find a free port") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw ValidationError("cannot bind \(host) to find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Stage {
    /// Serves until SIGINT or SIGTERM; on shutdown every open connection is closed with 1001 and gets
    /// its `$disconnect`.
    func run() async throws {
        let app = Application(
            responder: CallbackResponder<StageRequestContext> { request, context in try await self.respond(to: request, context: context) },
            server: HTTPServerBuilder { responder in StageChannel(responder: responder, stage: self) },
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: nil),
            services: [TimeoutService(stage: self)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? self.settings.port
                self.bound(port: port)
                let base = "\(self.settings.host):\(port)"
                StageLog.write("""
                    local-runtime stage \(self.stageName) ready
                      WebSocket     ws://\(base)/\(self.stageName)
                      HTTP API      http://\(base)
                      @connections  http://\(base)/\(self.stageName)/@connections/{connectionId}
                    """)
            }
        )
        try await app.runService()
    }
}

/// Closes connections past API Gateway's idle and hard timeouts while the stage runs.
struct TimeoutService: Service {
    let stage: Stage

    func run() async throws {
        await cancelWhenGracefulShutdown { await stage.enforceTimeouts() }
    }
}

extension Serve {
    /// Applies retention on start, as a deployed table's TTL would have meanwhile: a state file
    /// left for months does not keep conversations past `RETENTION_DAYS`.
    static func purgePastRetention(_ store: any Store, environment: [String: String]) async throws {
        let now = Date()
        let days = Configuration(environment: environment).retentionDays
        let purged = try await store.purge(before: now.addingTimeInterval(-Double(days) * 86_400), now: now)
        if purged.messages + purged.securityEvents > 0 {
            StageLog.write("retention: removed \(purged.messages) messages and \(purged.securityEvents) security events older than \(days) days")
        }
    }
}
