import ArgumentParser
import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SQLiteStore

struct StartLambda: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-lambda",
        abstract: "Serves the Lambda invoke API for the template's functions, like `sam local start-lambda`.",
        discussion: """
            boto3's lambda client and `aws lambda invoke --endpoint-url http://127.0.0.1:PORT` work unchanged \
            (the AWS CLI and boto3 still want a region and some credentials: any values do). Functions run as \
            real `bootstrap` processes through the Runtime API by default — the deployed binary, as Lambda \
            runs it — or in-process; --external runs any runtime (awslambdaric, another language's runtime \
            client) as a function.
            """ + "\n\n" + EnvironmentHelp.functions + "\n\n" + EnvironmentHelp.statePath)

    enum RuntimeKind: String, ExpressibleByArgument, CaseIterable {
        case inProcess = "in-process"
        case bootstrap
    }

    @Option(name: .long, help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "The port of the invoke API.")
    var port = 3002

    @Option(name: .long, help: "How template functions run: bootstrap processes over the Runtime API, or in-process. The default is bootstrap here, unlike serve and replay (in-process): this command stands in for Lambda itself.")
    var runtime: RuntimeKind = .bootstrap

    @Option(name: .long, help: "The bootstrap executable (default: the one built beside local-runtime).")
    var bootstrap: String?

    @Option(name: .long, help: "The SQLite state file shared by every function (default: STATE_PATH, else .local-runtime/state.sqlite).")
    var state = StatePath.default

    @Option(name: .long, parsing: .singleValue,
            help: "NAME=COMMAND: a function served by an external runtime process, e.g. 'hello=python3 -m awslambdaric app.handler'.")
    var external: [String] = []

    @Option(name: .long, help: "Timeout in seconds of --external functions.")
    var externalTimeout: Double = 30

    @Option(name: .long, help: "Concurrent invocations per function; more are throttled with 429 TooManyRequestsException, as Lambda does.")
    var maxConcurrency = LambdaPool.defaultMaxSandboxesPerFunction

    func validate() throws {
        guard maxConcurrency > 0 else { throw ValidationError("--max-concurrency must be positive") }
    }

    @OptionGroup var templateOptions: TemplateOptions

    func run() async throws {
        let template = try templateOptions.load()
        let store = try SQLiteStore(.file(state))
        try await LocalFunctions.seedDemoWidget(in: store, now: Date())
        let pool = LambdaPool(maxSandboxesPerFunction: maxConcurrency, log: { StageLog.write($0) })
        var environment = ProcessInfo.processInfo.environment
        environment["STORE"] = "sqlite"
        environment["STATE_PATH"] = URL(fileURLWithPath: state).path
        let builtIns: any FunctionInvoker = switch runtime {
        case .inProcess:
            LocalFunctions(template: template, store: store, clock: SystemClock(), poster: CollectingPoster())
        case .bootstrap:
            BootstrapInvoker(pool: pool, bootstrapPath: bootstrap ?? BootstrapInvoker.defaultBootstrapPath(), environment: environment)
        }
        let invoker = TemplateFunctions(
            builtIns: builtIns,
            processes: ProcessFunctions(pool: pool, launcher: RuntimeLauncher(hostEnvironment: ProcessInfo.processInfo.environment,
                                                                              stateDirectory: StatePath.directory(of: state)),
                                        region: template.region))
        var externals: [String: LambdaDefinition] = [:]
        for entry in external {
            guard let equals = entry.firstIndex(of: "="), case let command = entry[entry.index(after: equals)...].split(separator: " ").map(String.init),
                  !command.isEmpty else {
                throw ValidationError("--external takes NAME=COMMAND, got \(entry)")
            }
            let name = String(entry[..<equals])
            externals[name] = LambdaDefinition(name: name, command: Self.resolve(command), environment: ProcessInfo.processInfo.environment,
                                               timeout: externalTimeout, memorySize: 128)
        }
        let api = InvokeAPI(template: template, invoker: invoker, pool: pool, externals: externals)
        let boundPort = BoundPort(port)
        if StartupSummary.concerns(template) {
            StageLog.write(StartupSummary.aiLine(template: template, processEnvironment: environment))
            StageLog.write(StartupSummary.storeLine(.sqlite, statePath: state))
        }
        let app = Application(
            router: api.router(access: LocalAccessPolicy(bindHost: host, allowedHosts: []), port: boundPort),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                boundPort.set(channel.localAddress?.port ?? port)
                StageLog.write("local-runtime start-lambda ready: http://\(host):\(boundPort.value) (runtime: \(runtime.rawValue))")
            }
        )
        do {
            try await PortInUse.explaining(port: port) { try await app.runService() }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    /// The executable of a command: absolute as given, otherwise looked up on PATH.
    static func resolve(_ command: [String]) -> [String] {
        guard let first = command.first, !first.contains("/") else { return command }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(first)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return [candidate] + command.dropFirst() }
        }
        return command
    }
}

/// The Lambda invoke API: `POST /2015-03-31/functions/{name}/invocations`, and the Runtime Interface
/// Emulator's `/2015-03-31/functions/function/invocations` for the first function.
struct InvokeAPI: Sendable {
    let template: Template
    let invoker: any FunctionInvoker
    let pool: LambdaPool
    let externals: [String: LambdaDefinition]

    /// The routes, refusing what `access` refuses (`LocalAccessMiddleware`).
    func router(access: LocalAccessPolicy, port: BoundPort) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LocalAccessMiddleware(policy: access, port: port))
        router.post("/2015-03-31/functions/:name/invocations") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: RuntimeAPIRoutes.maxPayloadBytes)
            } catch is NIOTooManyBytesError {
                return Self.json(413, ["Type": "User", "message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"],
                                 extra: ["x-amzn-ErrorType": "RequestTooLargeException"])
            }
            return await invoke(name: name, payload: Array(body.readableBytesView))
        }
        return router
    }

    func invoke(name: String, payload: [UInt8]) async -> Response {
        let requestId = AWSIdentifiers.lambdaRequestId()
        if let definition = externals[name] {
            return Self.response(await pool.run(definition, payload: payload, requestId: requestId), requestId: requestId)
        }
        let function = name == "function"
            ? template.functions.values.sorted { $0.logicalId < $1.logicalId }.first
            : template.function(named: name)
        guard let function else {
            return Self.json(404, ["Type": "User", "message": "Function not found: \(name)"], extra: ["x-amzn-ErrorType": "ResourceNotFoundException"])
        }
        do {
            let output = try await invoker.invoke(function, payload: payload, requestId: requestId)
            return Self.response(.response(output), requestId: requestId)
        } catch is FunctionThrottled {
            return Self.response(.throttled, requestId: requestId)
        } catch let error as InvocationError {
            return Self.response(.error(type: error.errorType, document: Array(JSONCoding.string(
                ["errorType": error.errorType, "errorMessage": error.errorMessage]).utf8)), requestId: requestId)
        } catch {
            return Self.response(LambdaPool.failure(String(describing: type(of: error)), "\(error)", requestId: requestId), requestId: requestId)
        }
    }

    /// Lambda answers a function error with 200 and `X-Amz-Function-Error: Unhandled`, and an
    /// invocation over the function's concurrency with 429 `TooManyRequestsException`.
    static func response(_ outcome: InvocationOutcome, requestId: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestId
        let body: [UInt8]
        switch outcome {
        case .response(let bytes):
            headers[HTTPField.Name("X-Amz-Executed-Version")!] = "$LATEST"
            body = bytes
        case .error(_, let document):
            headers[HTTPField.Name("X-Amz-Executed-Version")!] = "$LATEST"
            headers[HTTPField.Name("X-Amz-Function-Error")!] = "Unhandled"
            body = document
        case .throttled:
            headers[HTTPField.Name("x-amzn-ErrorType")!] = "TooManyRequestsException"
            let document = ["Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."]
            return Response(status: .tooManyRequests, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: JSONCoding.string(document))))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func json(_ status: Int, _ body: [String: String], extra: [String: String] = [:]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: JSONCoding.string(body))))
    }
}
