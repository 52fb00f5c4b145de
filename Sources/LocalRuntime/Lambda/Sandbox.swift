import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// An invocation waiting for, or being served by, a runtime process.
struct PendingInvocation: Sendable {
    var requestId: String
    var payload: [UInt8]
    var deadline: Date
    var traceId: String
}

/// What a runtime reported for an invocation.
enum InvocationOutcome: Sendable, Equatable {
    case response([UInt8])
    /// An error document `{errorType, errorMessage, ...}` and the error type header.
    case error(type: String, document: [UInt8])
    /// Not run: the function was at its concurrency limit (Lambda's 429 `TooManyRequestsException`).
    case throttled
}

/// What `GET /next` gets from a sandbox.
enum NextInvocation: Sendable {
    case invocation(PendingInvocation)
    /// Another `/next` of this sandbox is already waiting: a sandbox has one runtime.
    case alreadyWaiting
    /// The sandbox ended while the runtime waited.
    case ended
}

/// One execution environment: a runtime process (our `bootstrap`, awslambdaric, anything speaking
/// the Runtime API) with its own Runtime API endpoint, as each Lambda sandbox has. One invocation
/// at a time; warm between invocations.
actor Sandbox {
    let function: String
    /// What the runtime is told it was invoked as (`Lambda-Runtime-Invoked-Function-Arn`).
    let functionArn: String
    private var process: Process?
    private var waitingRuntime: CheckedContinuation<NextInvocation, Never>?
    private var queued: PendingInvocation?
    private var current: (id: String, reply: CheckedContinuation<InvocationOutcome, Never>)?
    private var initFailure: InvocationOutcome?
    private var handedOut: Set<String> = []
    private(set) var isDead = false
    let startedAt = ContinuousClock.now
    private(set) var initDuration: Duration?

    init(function: String, functionArn: String) {
        self.function = function
        self.functionArn = functionArn
    }

    func attach(_ process: Process) { self.process = process }

    /// Serves `invocation` on this sandbox's runtime and waits for its outcome.
    func invoke(_ invocation: PendingInvocation) async -> InvocationOutcome {
        if let initFailure { return initFailure }
        return await withCheckedContinuation { reply in
            current = (invocation.requestId, reply)
            if let runtime = waitingRuntime {
                waitingRuntime = nil
                markHandedOut(invocation.requestId)
                runtime.resume(returning: .invocation(invocation))
            } else {
                queued = invocation
            }
        }
    }

    /// `GET /next`: suspends, without a timeout, until an invocation is assigned. Only one `/next`
    /// waits at a time: a second would replace the first's continuation, which would then never
    /// resume (and the invocation would go to whoever asked last), so it is refused instead.
    func next() async -> NextInvocation {
        if initDuration == nil { initDuration = ContinuousClock.now - startedAt }
        if let invocation = queued {
            queued = nil
            markHandedOut(invocation.requestId)
            return .invocation(invocation)
        }
        guard waitingRuntime == nil else { return .alreadyWaiting }
        guard !isDead else { return .ended }
        return await withCheckedContinuation { waitingRuntime = $0 }
    }

    /// Whether the runtime has received `requestId` from `/next` (or can no longer): Lambda's
    /// function timeout starts there; the time a runtime takes to initialise is init time.
    func hasHandedOff(_ requestId: String) -> Bool {
        handedOut.contains(requestId) || isDead || initFailure != nil
    }

    private func markHandedOut(_ requestId: String) {
        handedOut.insert(requestId)
    }

    /// `POST /response` or `/error`; false for an id that is not the current invocation.
    func complete(_ requestId: String, with outcome: InvocationOutcome) -> Bool {
        guard let current, current.id == requestId else { return false }
        self.current = nil
        current.reply.resume(returning: outcome)
        return true
    }

    /// `POST /init/error`: the runtime could not start; the invocation waiting for it fails with it.
    func failInit(_ outcome: InvocationOutcome) {
        initFailure = outcome
        queued = nil
        if let current {
            self.current = nil
            current.reply.resume(returning: outcome)
        }
    }

    /// Ends the sandbox (timeout, crash, shutdown), failing the current invocation with `outcome`.
    func terminate(failing outcome: InvocationOutcome) {
        isDead = true
        if let process, process.isRunning { process.terminate() }
        queued = nil
        if let runtime = waitingRuntime {
            waitingRuntime = nil
            runtime.resume(returning: .ended)
        }
        if let current {
            self.current = nil
            current.reply.resume(returning: outcome)
        }
    }

    /// Stops the runtime process before its Runtime API goes away, then ends the sandbox as
    /// `terminate` does: SIGTERM, and SIGKILL if it is still running after `grace`. A runtime
    /// waiting on `/next` is answered only once its process has exited, so it never sees the
    /// Runtime API fail under it (awslambdaric prints a `Failed to get next` traceback when it does).
    func stop(failing outcome: InvocationOutcome, grace: Duration = .milliseconds(500)) async {
        isDead = true
        if let process, process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + grace
            while process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        terminate(failing: outcome)
    }

    var isRunning: Bool { !isDead && (process?.isRunning ?? false) }

    /// Whether the runtime process has exited (or never started): its Runtime API connections are closed.
    var processExited: Bool { !(process?.isRunning ?? false) }
}

/// The Runtime API (2018-06-01) of one sandbox, on its own loopback port under a secret path.
enum RuntimeAPIRoutes {
    /// The largest response or error document Lambda accepts from a function (6 MB).
    static let maxPayloadBytes = 6 * 1024 * 1024

    /// A path segment nobody can guess: 128 random bits in hex.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    static func router(for sandbox: Sandbox, secret: String) -> Router<BasicRequestContext> {
        let router = Router()
        let base = "/\(secret)/2018-06-01/runtime"
        router.get("\(base)/invocation/next") { _, _ -> Response in
            let invocation: PendingInvocation
            switch await sandbox.next() {
            case .invocation(let next): invocation = next
            case .alreadyWaiting:
                return accepted(403, #"{"errorMessage":"Another /next of this runtime is already waiting","errorType":"InvalidStateTransition"}"#)
            case .ended:
                return accepted(500, #"{"errorMessage":"The sandbox has ended","errorType":"Runtime.ExitError"}"#)
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("Lambda-Runtime-Aws-Request-Id")!] = invocation.requestId
            headers[HTTPField.Name("Lambda-Runtime-Deadline-Ms")!] = "\(Int64(invocation.deadline.timeIntervalSince1970 * 1000))"
            headers[HTTPField.Name("Lambda-Runtime-Invoked-Function-Arn")!] = sandbox.functionArn
            headers[HTTPField.Name("Lambda-Runtime-Trace-Id")!] = invocation.traceId
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: invocation.payload)))
        }
        router.post("\(base)/invocation/:requestId/response") { request, context -> Response in
            guard let body = try await collect(request, upTo: maxPayloadBytes) else {
                return accepted(413, #"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#)
            }
            let id = context.parameters.get("requestId") ?? ""
            let known = await sandbox.complete(id, with: .response(Array(body.readableBytesView)))
            return known ? accepted(202, #"{"status":"OK"}"#) : accepted(400, #"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#)
        }
        router.post("\(base)/invocation/:requestId/error") { request, context -> Response in
            guard let body = try await collect(request, upTo: maxPayloadBytes) else {
                return accepted(413, #"{"errorMessage":"Error payload size exceeded maximum allowed payload size.","errorType":"RequestEntityTooLarge"}"#)
            }
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!] ?? "Unhandled"
            let id = context.parameters.get("requestId") ?? ""
            let known = await sandbox.complete(id, with: .error(type: type, document: Array(body.readableBytesView)))
            return known ? accepted(202, #"{"status":"OK"}"#) : accepted(400, #"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#)
        }
        router.post("\(base)/init/error") { request, _ -> Response in
            guard let body = try await collect(request, upTo: 1024 * 1024) else {
                return accepted(413, #"{"errorMessage":"Error payload size exceeded maximum allowed payload size.","errorType":"RequestEntityTooLarge"}"#)
            }
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!] ?? "Runtime.InitError"
            await sandbox.failInit(.error(type: type, document: Array(body.readableBytesView)))
            return accepted(202, #"{"status":"OK"}"#)
        }
        return router
    }

    /// The body, or nil when it is larger than `limit`.
    private static func collect(_ request: Request, upTo limit: Int) async throws -> ByteBuffer? {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            return nil
        }
    }

    private static func accepted(_ status: Int, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
