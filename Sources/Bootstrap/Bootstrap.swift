#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AWSSigV4
import DynamoDBStore
import Handlers
import LambdaRuntime
import ManagementAPIClient
import OpenAIProvider
import SQLiteStore

/// The custom runtime for `provided.al2023`: one binary for every function, `_HANDLER` picks which.
/// Everything expensive (store, HTTP client, provider) is built once at init, before the first
/// `/next`, so no invocation pays for it.
@main
struct Bootstrap {
    static func main() async {
        SQLiteStore.keepFreedHeapMemory()
        let environment = Environment.current
        guard let endpoint = environment["AWS_LAMBDA_RUNTIME_API"] else {
            RuntimeLog.write("bootstrap: AWS_LAMBDA_RUNTIME_API is not set; this binary runs under Lambda or `local-runtime start-lambda`")
            exit(64)
        }
        let client: RuntimeAPIClient
        do {
            client = try RuntimeAPIClient(endpoint: endpoint)
        } catch {
            RuntimeLog.write("bootstrap: \(error)")
            exit(1)
        }
        let function: AnyLambdaFunction
        let factory = FunctionFactory(environment: environment)
        do {
            function = try factory.make()
        } catch {
            let failure = error as? InvocationError ?? InvocationError(errorType: "Runtime.InitError", errorMessage: "\(error)")
            RuntimeLog.write("bootstrap: init failed: \(failure)")
            try? client.failInit(failure)
            exit(1)
        }
        let failure = await RuntimeLoop(client: client, function: function) { invocation in
            factory.eventClock?.set(fromEvent: invocation.payload)
        }.run()
        RuntimeLog.write("bootstrap: stopping: \(failure)")
        exit(1)
    }
}

/// The process environment as a dictionary, read once.
enum Environment {
    static var current: [String: String] {
        var count = 0
        while environ[count] != nil { count += 1 }
        // Sized once: growing it entry by entry rehashed it about six times at every cold start.
        var result = [String: String](minimumCapacity: count)
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Builds the function `_HANDLER` names, with the dependencies the environment selects; every
/// invocation's report (EMF metrics and structured log lines) goes to standard output.
struct FunctionFactory {
    let environment: [String: String]
    /// `CLOCK=event`: the function sees each event's recorded time, so that `local-runtime replay
    /// --runtime bootstrap` replays rate limits exactly as in-process replay does.
    let eventClock: SettableClock?

    init(environment: [String: String]) {
        self.environment = environment
        eventClock = environment["CLOCK"] == "event" ? SettableClock() : nil
    }

    func make() throws -> AnyLambdaFunction {
        guard let handler = environment["_HANDLER"], let name = FunctionName(rawValue: handler) else {
            throw InvocationError(
                errorType: "Runtime.InvalidHandler",
                errorMessage: "_HANDLER must be one of \(FunctionName.allCases.map(\.rawValue).joined(separator: ", ")); got \(environment["_HANDLER"] ?? "nothing")")
        }
        let telemetry = LambdaLogSink(environment: environment)
        for warning in telemetry.warningsAtInit { telemetry.log(warning, level: .error) }
        let dependencies = Dependencies(store: try store(), ai: try AIProviderSelection.provider(environment: environment),
                                        poster: try poster(for: name), clock: eventClock ?? SystemClock(),
                                        configuration: Configuration(environment: environment), telemetry: telemetry)
        return Functions.make(name, dependencies: dependencies)
    }

    /// Signed for `execute-api` with the function's role credentials when it has them, as the
    /// deployed `@connections` API refuses anything else; unsigned under `local-runtime`, whose stage
    /// checks no signature and whose environment names no credentials.
    ///
    /// Only `sendMessage` posts frames, so only it builds the poster (and with it AsyncHTTPClient's
    /// shared client and event-loop threads) at init; the other functions get a `DeferredPoster`
    /// that would build one for each post, so their cold start starts no threads they never use.
    /// The signer is made at init either way, so missing credentials still fail init alike.
    private func poster(for name: FunctionName) throws -> any ConnectionPoster {
        let signer = environment["AWS_ACCESS_KEY_ID"] == nil ? nil : try SigV4Signer(service: "execute-api", environment: environment)
        let poster = DeferredPoster(signer: signer)
        return name == .sendMessage ? poster.make() : poster
    }

    /// DynamoDB (`TABLE_NAME`, credentials and region as Lambda provides them) when deployed;
    /// `STORE=sqlite` keeps state in the SQLite file `STATE_PATH` — what the local runtime uses when
    /// it runs this binary.
    private func store() throws -> any Store {
        switch environment["STORE"] ?? (environment["TABLE_NAME"] == nil ? "sqlite" : "dynamodb") {
        case "sqlite":
            return try SQLiteStore(.file(environment["STATE_PATH"] ?? "/tmp/chat-widget-state.sqlite"))
        case "dynamodb":
            return try DynamoDBStore(environment: environment)
        case let other:
            throw InvocationError(errorType: "Runtime.InvalidStore", errorMessage: "STORE=\(other) is not one of sqlite, dynamodb")
        }
    }
}

/// An `HTTPConnectionPoster` built for each post rather than at init: for functions that never post.
struct DeferredPoster: ConnectionPoster {
    let signer: SigV4Signer?

    func make() -> HTTPConnectionPoster {
        signer.map { HTTPConnectionPoster(signingWith: $0) } ?? HTTPConnectionPoster()
    }

    func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws {
        try await make().post(data, to: connectionId, endpoint: endpoint)
    }
}
