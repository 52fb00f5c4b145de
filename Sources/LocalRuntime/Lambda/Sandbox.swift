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
    var functionArn: String
    var traceId: String
}

/// What a runtime reported for an invocation.
enum InvocationOutcome: Sendable, Equatable {
    case response([UInt8])
    /// An error document `{errorType, errorMessage, ...}` and the error type header.
    case error(type: String, document: [UInt8])
}

/// One execution environment: a runtime process (our `bootstrap`, awslambdaric, anything speaking
/// the Runtime API) with its own Runtime API endpoint, as each Lambda sandbox has. One invocation
/// at a time; warm between invocations.
actor Sandbox {
    let function: String
    private var process: Process?
    private var waitingRuntime: CheckedContinuation<PendingInvocation, Never>?
    private var queued: PendingInvocation?
    private var current: (id: String, reply: CheckedContinuation<InvocationOutcome, Never>)?
    private var initFailure: InvocationOutcome?
    private var handedOut: Set<String> = []
    private(set) var isDead = false
    let startedAt = ContinuousClock.now
    private(set) var initDuration: Duration?

    init(function: String) {
        self.function = function
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
                runtime.resume(returning: invocation)
            } else {
                queued = invocation
            }
        }
    }

    /// `GET /next`: suspends, without a timeout, until an invocation is assigned.
    func next() async -> PendingInvocation {
        if initDuration == nil { initDuration = ContinuousClock.now - startedAt }
        if let invocation = queued {
            queued = nil
            markHandedOut(invocation.requestId)
            return invocation
        }
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
        if let current {
            self.current = nil
            current.reply.resume(returning: outcome)
        }
    }

    var isRunning: Bool { !isDead && (process?.isRunning ?? false) }
}

/// The Runtime API (2018-06-01) of one sandbox, on its own loopback port.
enum RuntimeAPIRoutes {
    static func router(for sandbox: Sandbox) -> Router<BasicRequestContext> {
        let router = Router()
        let base = "/2018-06-01/runtime"
        router.get("\(base)/invocation/next") { _, _ -> Response in
            let invocation = await sandbox.next()
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("Lambda-Runtime-Aws-Request-Id")!] = invocation.requestId
            headers[HTTPField.Name("Lambda-Runtime-Deadline-Ms")!] = "\(Int64(invocation.deadline.timeIntervalSince1970 * 1000))"
            headers[HTTPField.Name("Lambda-Runtime-Invoked-Function-Arn")!] = invocation.functionArn
            headers[HTTPField.Name("Lambda-Runtime-Trace-Id")!] = invocation.traceId
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: invocation.payload)))
        }
        router.post("\(base)/invocation/:requestId/response") { request, context -> Response in
            let body = try await request.body.collect(upTo: 6 * 1024 * 1024 + 1)
            guard body.readableBytes <= 6 * 1024 * 1024 else {
                return accepted(413, #"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#)
            }
            let id = context.parameters.get("requestId") ?? ""
            let known = await sandbox.complete(id, with: .response(Array(body.readableBytesView)))
            return known ? accepted(202, #"{"status":"OK"}"#) : accepted(400, #"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#)
        }
        router.post("\(base)/invocation/:requestId/error") { request, context -> Response in
            let body = try await request.body.collect(upTo: 6 * 1024 * 1024)
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!] ?? "Unhandled"
            let id = context.parameters.get("requestId") ?? ""
            let known = await sandbox.complete(id, with: .error(type: type, document: Array(body.readableBytesView)))
            return known ? accepted(202, #"{"status":"OK"}"#) : accepted(400, #"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#)
        }
        router.post("\(base)/init/error") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1024 * 1024)
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!] ?? "Runtime.InitError"
            await sandbox.failInit(.error(type: type, document: Array(body.readableBytesView)))
            return accepted(202, #"{"status":"OK"}"#)
        }
        return router
    }

    private static func accepted(_ status: Int, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
