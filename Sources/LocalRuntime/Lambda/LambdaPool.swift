import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// How to start a runtime process for a function, and its Lambda settings.
struct LambdaDefinition: Sendable {
    var name: String
    var command: [String]
    var environment: [String: String]
    var timeout: TimeInterval
    var memorySize: Int
    /// The runtime process's current directory (a function's code folder, `LAMBDA_TASK_ROOT`).
    var workingDirectory: String?
}

/// Runs functions in real runtime processes through the Runtime API, as Lambda does: a warm sandbox
/// serves one invocation at a time, a busy function gets another sandbox instead of a queue, and an
/// invocation past the timeout kills its sandbox.
actor LambdaPool {
    private struct Slot {
        let sandbox: Sandbox
        var busy: Bool
        var server: Task<Void, Never>
        var dead = false
    }

    /// Lambda's default burst is far higher; locally a handful of warm processes per function is plenty.
    static let defaultMaxSandboxesPerFunction = 16
    /// Lambda's limit for a runtime to reach its first `/next`.
    static let initTimeout: TimeInterval = 10

    /// Like a function's reserved concurrency: invocations beyond it are throttled, not queued.
    let maxSandboxesPerFunction: Int
    private var slots: [String: [Slot]] = [:]
    private let log: @Sendable (String) -> Void
    /// Where the functions' own output (their log lines, EMF metrics included) goes: the process's
    /// standard output, beside the stage log, or its standard error when standard output carries a
    /// result (`invoke` prints the response there, as `sam local invoke` does).
    private let functionLogsToStandardError: Bool

    init(maxSandboxesPerFunction: Int = LambdaPool.defaultMaxSandboxesPerFunction, functionLogsToStandardError: Bool = false,
         log: @escaping @Sendable (String) -> Void) {
        self.maxSandboxesPerFunction = maxSandboxesPerFunction
        self.functionLogsToStandardError = functionLogsToStandardError
        self.log = log
    }

    /// Every sandbox of the function is busy and it may not have more: Lambda's throttling.
    struct ConcurrencyLimitExceeded: Error, CustomStringConvertible {
        var function: String
        var limit: Int
        var description: String { "\(function) already runs \(limit) concurrent invocations" }
    }

    /// Runs one invocation of `definition` and returns what its runtime reported.
    func run(_ definition: LambdaDefinition, payload: [UInt8], requestId: String = AWSIdentifiers.lambdaRequestId()) async -> InvocationOutcome {
        let sandbox: Sandbox
        do {
            sandbox = try await acquire(definition)
        } catch let error as ConcurrencyLimitExceeded {
            log("throttled RequestId: \(requestId) \(error)")
            return .throttled
        } catch {
            return Self.failure("Runtime.SandboxStartFailed", "\(error)", requestId: requestId)
        }
        let invocation = PendingInvocation(
            requestId: requestId, payload: payload, deadline: Date().addingTimeInterval(definition.timeout),
            traceId: "Root=1-\(String(Int(Date().timeIntervalSince1970), radix: 16))-\(AWSIdentifiers.lambdaRequestId().replacingOccurrences(of: "-", with: "").prefix(24));Sampled=0")
        log("START RequestId: \(requestId) Version: $LATEST")
        let started = ContinuousClock.now
        let outcome = await withTaskGroup(of: InvocationOutcome?.self) { group in
            group.addTask { await sandbox.invoke(invocation) }
            group.addTask {
                // Lambda allows 10 s to initialise; the function's timeout runs from the handoff.
                let initDeadline = ContinuousClock.now + .seconds(Self.initTimeout)
                while await !sandbox.hasHandedOff(requestId), ContinuousClock.now < initDeadline, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                try? await Task.sleep(for: .seconds(definition.timeout))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if let first { return first }
            let timedOut = Self.failure("Sandbox.Timedout",
                                        "RequestId: \(requestId) Error: Task timed out after \(String(format: "%.2f", definition.timeout)) seconds",
                                        requestId: requestId)
            await sandbox.terminate(failing: timedOut)
            self.markDead(sandbox)
            return timedOut
        }
        let elapsed = Self.milliseconds(ContinuousClock.now - started)
        // A cold invocation's wait for the runtime to reach `/next` is Init Duration, not Duration, as in Lambda.
        let initMilliseconds = release(sandbox, function: definition.name) ? await sandbox.initDuration.map(Self.milliseconds) : nil
        let milliseconds = max(0, elapsed - (initMilliseconds ?? 0))
        if retiring.remove(ObjectIdentifier(sandbox)) != nil {
            await sandbox.terminate(failing: Self.failure("Runtime.Reloaded", "the function's code changed", requestId: requestId))
        }
        log("END RequestId: \(requestId)")
        var report = "REPORT RequestId: \(requestId)\tDuration: \(String(format: "%.2f", milliseconds)) ms\tBilled Duration: \(Int(milliseconds.rounded(.up))) ms\tMemory Size: \(definition.memorySize) MB"
        if let initMilliseconds { report += "\tInit Duration: \(String(format: "%.2f", initMilliseconds)) ms" }
        log(report)
        return outcome
    }

    /// An idle warm sandbox, or a new one when all are busy. Nothing between the check and the
    /// claim suspends, so concurrent invocations never share a sandbox.
    private func acquire(_ definition: LambdaDefinition) async throws -> Sandbox {
        let name = definition.name
        if let index = slots[name]?.firstIndex(where: { !$0.busy && !$0.dead }), let slot = slots[name]?[index] {
            slots[name]?[index].busy = true
            return slot.sandbox
        }
        for slot in slots[name] ?? [] where slot.dead { Self.stopServerOnceExited(slot) }
        slots[name]?.removeAll { $0.dead }
        guard (slots[name]?.count ?? 0) + starting[name, default: 0] < maxSandboxesPerFunction else {
            throw ConcurrencyLimitExceeded(function: name, limit: maxSandboxesPerFunction)
        }
        starting[name, default: 0] += 1
        defer { starting[name, default: 1] -= 1 }
        let (sandbox, server) = try await start(definition)
        slots[name, default: []].append(Slot(sandbox: sandbox, busy: true, server: server))
        return sandbox
    }

    /// Marks the sandbox idle again; returns true the first time it is released (its cold start).
    private func release(_ sandbox: Sandbox, function: String) -> Bool {
        guard let index = slots[function]?.firstIndex(where: { $0.sandbox === sandbox }) else { return false }
        slots[function]?[index].busy = false
        return coldStarts.insert(ObjectIdentifier(sandbox)).inserted
    }

    /// A sandbox whose process ended (crash, timeout) is never handed out again.
    func markDead(_ sandbox: Sandbox) {
        for (function, functionSlots) in slots {
            if let index = functionSlots.firstIndex(where: { $0.sandbox === sandbox }) { slots[function]?[index].dead = true }
        }
    }

    private var starting: [String: Int] = [:]
    private var coldStarts: Set<ObjectIdentifier> = []
    /// Busy sandboxes to stop once their invocation ends (`recycle`).
    private var retiring: Set<ObjectIdentifier> = []

    /// Retires the warm sandboxes of the functions named (every function when nil), so that the
    /// next invocation starts the code as it is now: idle sandboxes stop at once, busy ones once
    /// their invocation has answered. Nothing in flight is cut off.
    func recycle(_ functions: Set<String>? = nil) async {
        var idle: [Slot] = []
        for (name, list) in slots where functions?.contains(name) ?? true {
            for (index, slot) in list.enumerated() where !slot.dead {
                slots[name]?[index].dead = true
                if slot.busy { retiring.insert(ObjectIdentifier(slot.sandbox)) } else { idle.append(slot) }
            }
        }
        for slot in idle {
            await slot.sandbox.terminate(failing: Self.failure("Runtime.Reloaded", "the function's code changed", requestId: "-"))
            Self.stopServerOnceExited(slot)
        }
    }

    /// Stops a sandbox's Runtime API once its process has exited (at most 5 s later): cancelling
    /// the server while the runtime still holds a request open would cut a response mid-write.
    private static func stopServerOnceExited(_ slot: Slot) {
        Task {
            let deadline = ContinuousClock.now + .seconds(5)
            while await !slot.sandbox.processExited, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            slot.server.cancel()
        }
    }

    /// Starts a Runtime API for a new sandbox on a free loopback port, under a secret path, then its
    /// runtime process, the only one told the path (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT/SECRET`;
    /// runtime clients put every request path after it). Another process that finds the port — by
    /// scanning, or a web page by guessing — reaches nothing there, so it can neither take an
    /// invocation from `/next` nor answer in the function's place.
    private func start(_ definition: LambdaDefinition) async throws -> (Sandbox, Task<Void, Never>) {
        let region = definition.environment["AWS_REGION"] ?? "us-east-1"
        let sandbox = Sandbox(function: definition.name,
                              functionArn: Intrinsics.functionArn(definition.name, region: region, accountId: "000000000000"))
        let port = try Serve.freePort(host: "127.0.0.1")
        let secret = RuntimeAPIRoutes.newSecret()
        let ready = AsyncStream<Void>.makeStream()
        let app = Application(
            router: RuntimeAPIRoutes.router(for: sandbox, secret: secret),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { _ in ready.continuation.yield() },
            logger: Logger(label: "runtime-api") { _ in SwiftLogNoOpLogHandler() }
        )
        let server = Task {
            do { try await app.run() } catch { ready.continuation.finish() }
        }
        var iterator = ready.stream.makeAsyncIterator()
        _ = await iterator.next()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: definition.command[0])
        process.arguments = Array(definition.command.dropFirst())
        if let workingDirectory = definition.workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        var environment = definition.environment
        environment["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(port)/\(secret)"
        environment["AWS_LAMBDA_FUNCTION_NAME"] = definition.name
        environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "\(definition.memorySize)"
        environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
        environment["AWS_REGION"] = region
        environment["PATH"] = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
        process.environment = environment
        if functionLogsToStandardError { process.standardOutput = FileHandle.standardError }
        let name = definition.name
        process.terminationHandler = { finished in
            Task {
                await self.markDead(sandbox)
                await sandbox.terminate(failing: Self.failure(
                    "Runtime.ExitError", "RequestId: - Error: Runtime exited with status \(finished.terminationStatus) (\(name))", requestId: "-"))
            }
        }
        try process.run()
        await sandbox.attach(process)
        return (sandbox, server)
    }

    /// Stops every sandbox and its Runtime API.
    func shutdown() async {
        let stopping = slots.values.flatMap { $0 }
        slots.removeAll()
        // Every process is stopped (concurrently, each within its grace) before any Runtime API
        // server closes, so no runtime sees its API disappear while it waits for an invocation.
        await withDiscardingTaskGroup { group in
            for slot in stopping {
                group.addTask {
                    await slot.sandbox.stop(failing: Self.failure("Runtime.Shutdown", "local-runtime is stopping", requestId: "-"))
                }
            }
        }
        for slot in stopping { slot.server.cancel() }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func failure(_ type: String, _ message: String, requestId: String) -> InvocationOutcome {
        .error(type: type, document: Array(JSONCoding.string(["errorType": type, "errorMessage": message]).utf8))
    }
}

extension LambdaPool {
    /// Runs one invocation and returns the function's response, or throws what Lambda's invoke
    /// would report: `FunctionThrottled`, or the function's error as an `InvocationError`.
    func invoke(_ definition: LambdaDefinition, payload: [UInt8], requestId: String) async throws -> [UInt8] {
        switch await run(definition, payload: payload, requestId: requestId) {
        case .response(let bytes):
            return bytes
        case .throttled:
            throw FunctionThrottled(function: definition.name)
        case .error(let type, let document):
            let message = (try? JSONValue(parsing: document))?["errorMessage"]?.stringValue
            throw InvocationError(errorType: type, errorMessage: message ?? String(decoding: document, as: UTF8.self))
        }
    }
}

/// An invocation Lambda would have throttled: the invoke API answers it 429 `TooManyRequestsException`.
struct FunctionThrottled: Error, CustomStringConvertible {
    var function: String
    var description: String { "Rate Exceeded: \(function) is at its concurrency limit" }
}

/// Template functions run through their `bootstrap` in sandboxes: the same binary that is deployed.
struct BootstrapInvoker: FunctionInvoker {
    let pool: LambdaPool
    let bootstrapPath: String
    /// Environment of every runtime process on top of each function's own (state file, endpoints).
    let environment: [String: String]

    func definition(for function: Template.Function) -> LambdaDefinition {
        var environment = LocalEnvironment.merged(template: function.environment, process: self.environment)
        environment.merge(self.environment.filter { Self.passedThrough.contains($0.key) }) { $1 }
        environment["_HANDLER"] = function.handler
        return LambdaDefinition(name: function.logicalId, command: [bootstrapPath], environment: environment,
                                timeout: function.timeout, memorySize: function.memorySize)
    }

    func invoke(_ function: Template.Function, payload: [UInt8], requestId: String) async throws -> [UInt8] {
        try await pool.invoke(definition(for: function), payload: payload, requestId: requestId)
    }

    /// Settings of the local runtime itself that every runtime process inherits: where state is, how
    /// to reach @connections and DynamoDB, the replay clock, credentials.
    static let passedThrough: Set<String> = [
        "STORE", "STATE_PATH", "CLOCK", "WEBSOCKET_MANAGEMENT_ENDPOINT", "PATH", "HOME", "TABLE_NAME",
        "AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
    ]

    /// `bootstrap` next to the running `local-runtime`, where `swift build` puts both.
    static func defaultBootstrapPath() -> String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("bootstrap").path
    }
}
