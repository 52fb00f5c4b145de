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
        abstract: "Runs the template's WebSocket and HTTP APIs on one local port, like an API Gateway stage.",
        discussion: EnvironmentHelp.functions + "\n\n" + EnvironmentHelp.state)

    @Option(name: .long, help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "The port to listen on (0 picks a free one).")
    var port = 3001

    @Option(name: .long, help: "The SQLite state file (default: STATE_PATH, else .local-runtime/state.sqlite).")
    var state = StatePath.default

    @Option(name: .long, help: ArgumentHelp(
        "Where state lives: sqlite (the --state file) or dynamodb.",
        discussion: """
            dynamodb uses table TABLE_NAME (default ChatStateTable) at AWS_ENDPOINT_URL_DYNAMODB, else \
            AWS_ENDPOINT_URL (DYNAMODB_ENDPOINT is an alias), else the region's endpoint; credentials from \
            the environment or the shared credentials file's AWS_PROFILE; region from AWS_REGION or the \
            config file. A table missing on a local endpoint is created; an unreachable store stops start-up.
            """))
    var store: StoreOption = .sqlite

    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "Write every event handed to a handler into this directory (0700, files 0600) as a replayable fixture, credentials redacted.")
    var record: String?

    @Option(name: .long, help: "Stop recording once the --record directory holds this many bytes.")
    var recordMaxBytes = EventRecorder.defaultMaxBytes

    @Option(name: .long, help: "How in-process functions post replies: in-process (straight to the stage's connections) or http (through the @connections HTTP endpoint, the deployed code path).")
    var replyPath: ReplyPath = .inProcess

    @Option(name: .long, help: "Close WebSocket connections idle for this many seconds (API Gateway: 600).")
    var idleTimeout: Double = 600

    @Option(name: .long, help: "Close WebSocket connections open for this many seconds (API Gateway: 7200).")
    var hardTimeout: Double = 7200

    @Option(name: .long, help: "Refuse a WebSocket frame with 'Too Many Requests' while its connection has this many invocations in flight.")
    var maxInvocationsPerConnection = 10

    @Option(name: .long, help: "Close a connection whose request headers have not all arrived this many seconds after it opened.")
    var headerReadTimeout: Double = 10

    @Option(name: .long, help: "Close an HTTP keep-alive connection idle for this many seconds.")
    var httpIdleTimeout: Double = 60

    @Option(name: .long, help: "Accept at most this many connections at once; more wait until one closes (default: what the descriptor limit allows).")
    var maxConnections: Int?

    @Option(name: .long, help: ArgumentHelp(
        "A host name /_dev and @connections also answer to (repeatable).",
        discussion: "They always answer localhost, 127.0.0.1, [::1] and --host, with the stage's port."))
    var allowedHost: [String] = []

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Serve HTTPS and WSS on the same port too, with a certificate of a local CA made on first run in the state folder.",
        discussion: "Functions trust the CA through AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE and NODE_EXTRA_CA_CERTS, so handlers that post to https://{domainName}/{stage} work unchanged."))
    var tls = true

    @Flag(name: .long, help: ArgumentHelp(
        "Watch the functions' code and swap their processes when it changes, keeping WebSocket connections open.",
        discussion: "Python and Node need no build; this project's Swift functions are rebuilt with swift build when they run with --runtime bootstrap."))
    var watch = false

    @Option(name: .long, help: "The JWKS (a file, or an http(s) URL read at start-up) whose keys JWT and Cognito authorizers check tokens with; an OpenID Provider's metadata (.../.well-known/openid-configuration) is followed to its jwks_uri.")
    var jwks: String?

    @OptionGroup var templateOptions: TemplateOptions

    func validate() throws {
        guard idleTimeout > 0, hardTimeout > 0, headerReadTimeout > 0, httpIdleTimeout > 0 else {
            throw ValidationError("timeouts must be positive")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard maxInvocationsPerConnection > 0, recordMaxBytes > 0, (maxConnections ?? 1) > 0 else {
            throw ValidationError("--max-invocations-per-connection, --max-connections and --record-max-bytes must be positive")
        }
    }

    func run() async throws {
        let template = try templateOptions.load()
        let port = try port == 0 ? Self.freePort(host: host) : port
        let store = try await self.store.openOrExplain(statePath: state, environment: ProcessInfo.processInfo.environment)
        try await LocalFunctions.seedDemoWidget(in: store, now: Date())
        var environment = try LocalAdminSecret.environment(ProcessInfo.processInfo.environment, statePath: state)
        try await Self.purgePastRetention(store, environment: environment)
        let managementEndpoint = "http://\(host):\(port)/\(template.stageName)"
        environment["WEBSOCKET_MANAGEMENT_ENDPOINT"] = managementEndpoint
        var keys: JSONWebKeySet?
        if let jwks {
            do {
                keys = try await JSONWebKeySet.load(jwks)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        let authority = try tls ? LocalCertificateAuthority.prepare(in: StatePath.directory(of: state), host: host) : nil
        let settings = StageSettings(host: host, port: port, idleTimeout: idleTimeout, hardTimeout: hardTimeout,
                                     maxInvocationsPerConnection: maxInvocationsPerConnection, headerReadTimeout: headerReadTimeout,
                                     httpIdleTimeout: httpIdleTimeout, maxConnections: Self.connectionLimit(requested: maxConnections),
                                     allowedHosts: allowedHost, tls: try authority.map(StageTLS.init),
                                     jwks: keys)
        let registry = ConnectionRegistry()
        let metrics = StageMetrics(functions: template.functions.values.compactMap(\.builtIn))
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
                                       processEnvironment: environment, telemetry: metrics)
        }
        let invoker = TemplateFunctions(
            builtIns: functions,
            processes: ProcessFunctions(pool: pool, launcher: RuntimeLauncher(hostEnvironment: environment.merging(authority?.functionEnvironment ?? [:]) { $1 },
                                                                              stateDirectory: StatePath.directory(of: state)),
                                        region: template.region))
        let resigner = environment["ADMIN_JWT_SECRET"].map { AdminTokenResigner(liveSecret: $0, replaySecret: LocalAdminSecret.replay) }
        let recorder = try record.map { try EventRecorder(directory: $0, maxBytes: recordMaxBytes, resigner: resigner) }
        let stage = Stage(template: template, invoker: invoker, settings: settings, recorder: recorder, registry: registry,
                          metrics: metrics, openAPI: OpenAPIDocument.load(templatePath: templateOptions.path),
                          widgetGreeting: { id in
                              guard let widget = try? await store.widget(id: id), widget.isActive else { return nil }
                              return widget.settings.greeting
                          })
        for path in template.notEmulated {
            StageLog.write("not emulated: \(path) (requests are not checked against it here)")
        }
        if StartupSummary.concerns(template) {
            StageLog.write(StartupSummary.aiLine(template: template, processEnvironment: environment))
            StageLog.write(StartupSummary.storeLine(self.store, statePath: state))
        }
        // The recorder writes while the stage runs, and what was queued is written before exit.
        async let recording: Void? = recorder?.run()
        let reloader = watch ? FunctionReloader(
            template: template, directory: URL(fileURLWithPath: templateOptions.path).deletingLastPathComponent().path, pool: pool,
            builtInsRunAsBootstrap: runtimeOptions.bootstrapPath != nil, interval: .milliseconds(250),
            pythonCache: RuntimeLauncher(hostEnvironment: [:], stateDirectory: StatePath.directory(of: state)).pythonCache,
            report: { message in
                // The stage log and the dev console's feed both show each reload.
                StageLog.write(message)
                stage.feed.publish(InvocationRecord(function: "reload", route: message, id: "-", status: "ok", milliseconds: 0))
            }) : nil
        let watching = Task { [templatePath = templateOptions.path] in await reloader?.run(templatePath: templatePath) }
        defer { watching.cancel() }
        do {
            try await PortInUse.explaining(port: port) { try await stage.run() }
        } catch {
            recorder?.finish()
            _ = await recording
            await pool.shutdown()
            throw error
        }
        recorder?.finish()
        _ = await recording
        await pool.shutdown()
    }

    /// The connection cap: what was asked for, within what the process's descriptor limit (raised to
    /// its hard limit) leaves after a reserve, so that clients can never take every descriptor.
    static func connectionLimit(requested: Int?) -> Int {
        let budget = DescriptorBudget.connections()
        guard let requested else { return budget }
        if requested > budget {
            StageLog.write("local-runtime: --max-connections \(requested) is above what the descriptor limit allows; using \(budget)")
            return budget
        }
        return requested
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
