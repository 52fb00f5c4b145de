#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LambdaCore

/// The Lambda Runtime API protocol (2018-06-01): fetch the next invocation, run the function,
/// report its response or error, forever.
public struct RuntimeAPIClient {
    let connection: RuntimeHTTPConnection

    public init(endpoint: String) throws(RuntimeConnectionError) {
        connection = try RuntimeHTTPConnection(endpoint: endpoint)
    }

    /// One invocation handed out by `/invocation/next`.
    public struct Invocation {
        public var payload: [UInt8]
        public var context: InvocationContext
    }

    /// The Runtime API answered with a status the protocol calls fatal (5xx), or not at all.
    public struct FatalStatus: Error, CustomStringConvertible {
        public var path: String
        public var status: Int
        public var description: String { "Runtime API answered \(status) to \(path)" }
    }

    /// Waits — with no client timeout, as the protocol requires — for the next invocation.
    public func next() throws -> Invocation {
        let response = try connection.request("GET", [Self.nextPath])
        guard response.status == 200 else { throw FatalStatus(path: Self.nextPath, status: response.status) }
        let headers = response.headers
        guard let requestId = headers["lambda-runtime-aws-request-id"], !requestId.isEmpty else {
            throw RuntimeConnectionError.malformedResponse("/next without Lambda-Runtime-Aws-Request-Id")
        }
        let deadlineMillis = headers["lambda-runtime-deadline-ms"].flatMap { Int64($0) } ?? 0
        let context = InvocationContext(
            requestId: requestId,
            deadline: Date(timeIntervalSince1970: Double(deadlineMillis) / 1000),
            invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"] ?? "",
            traceId: headers["lambda-runtime-trace-id"])
        return Invocation(payload: response.body, context: context)
    }

    static let nextPath = "/2018-06-01/runtime/invocation/next"
    static let invocationPath = "/2018-06-01/runtime/invocation/"

    public func respond(requestId: String, payload: [UInt8]) throws {
        try post([Self.invocationPath, requestId, "/response"], body: payload, errorType: nil)
    }

    public func fail(requestId: String, error: InvocationError) throws {
        try post([Self.invocationPath, requestId, "/error"], body: Self.errorDocument(error), errorType: error.errorType)
    }

    /// Reports a failed initialisation; the process exits afterwards.
    public func failInit(_ error: InvocationError) throws {
        try post(["/2018-06-01/runtime/init/error"], body: Self.errorDocument(error), errorType: error.errorType)
    }

    private func post(_ path: [String], body: [UInt8], errorType: String?) throws {
        var headers: [(StaticString, String)] = [("Content-Type", "application/json")]
        if let errorType { headers.append(("Lambda-Runtime-Function-Error-Type", errorType)) }
        let response = try connection.request("POST", path, headers: headers, body: body)
        if response.status >= 500 { throw FatalStatus(path: path.joined(), status: response.status) }
        if response.status >= 400 {
            // 400/403/413: this invocation's report was refused (e.g. a response over 6 MB); the loop goes on.
            let detail = String(decoding: response.body.prefix(300), as: UTF8.self)
            RuntimeLog.write("Runtime API refused \(path.joined()) with \(response.status): \(detail)")
        }
    }

    /// `{"errorMessage": ..., "errorType": ..., "stackTrace": []}`, Lambda's error shape.
    static func errorDocument(_ error: InvocationError) -> [UInt8] {
        struct Document: Encodable {
            var errorMessage: String
            var errorType: String
            var stackTrace: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding three strings cannot fail; an empty object keeps the contract if it ever did.
        let document = Document(errorMessage: error.errorMessage, errorType: error.errorType, stackTrace: [])
        return (try? encoder.encode(document)).map { Array($0) } ?? Array("{}".utf8)
    }
}

/// Runs a function against the Runtime API until the Runtime API says otherwise.
public struct RuntimeLoop {
    let client: RuntimeAPIClient
    let function: any LambdaPayloadHandler
    let willInvoke: @Sendable (RuntimeAPIClient.Invocation) -> Void

    /// `willInvoke` sees each invocation before the function does (e.g. to set a replay clock).
    public init(client: RuntimeAPIClient, function: any LambdaPayloadHandler, willInvoke: @escaping @Sendable (RuntimeAPIClient.Invocation) -> Void = { _ in }) {
        self.client = client
        self.function = function
        self.willInvoke = willInvoke
    }

    /// Serves invocations until the Runtime API fails; returns that failure.
    public func run() async -> any Error {
        var traceId: String?? = .none
        while true {
            do {
                let invocation = try client.next()
                if invocation.context.traceId != traceId {
                    // the environment is rewritten only when the id changes (setenv copies and may reallocate)
                    setenv("_X_AMZN_TRACE_ID", invocation.context.traceId ?? "", 1)
                    traceId = invocation.context.traceId
                }
                willInvoke(invocation)
                do {
                    let output = try await function.invoke(invocation.payload, context: invocation.context)
                    try client.respond(requestId: invocation.context.requestId, payload: output)
                } catch let error as InvocationError {
                    try client.fail(requestId: invocation.context.requestId, error: error)
                } catch let error as RuntimeConnectionError {
                    throw error
                } catch let error as RuntimeAPIClient.FatalStatus {
                    throw error
                } catch {
                    let failure = InvocationError(errorType: String(describing: type(of: error)), errorMessage: String(describing: error))
                    try client.fail(requestId: invocation.context.requestId, error: failure)
                }
            } catch {
                return error
            }
        }
    }
}

/// Log lines go to standard error unbuffered, where Lambda collects them into CloudWatch.
public enum RuntimeLog {
    public static func write(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { bytes in _ = FileDescriptorWrite.write(2, UnsafeRawBufferPointer(bytes)) }
    }
}

/// The C library's `write(2)`, spelled per platform: Lambda's log streams (standard output and
/// error) are written with it, unbuffered. Called by module name, because types with a `write`
/// method of their own (`RuntimeLog`, `LambdaLogSink`) hide the C function inside them.
public enum FileDescriptorWrite {
    /// One `write` of `bytes` to `descriptor`: the count written, or -1 with `errno` set.
    public static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, bytes.baseAddress, bytes.count)
        #elseif canImport(Darwin)
        Darwin.write(descriptor, bytes.baseAddress, bytes.count)
        #endif
    }
}
