#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
        do {
            function = try FunctionFactory(environment: environment).make()
        } catch {
            let failure = error as? InvocationError ?? InvocationError(errorType: "Runtime.InitError", errorMessage: "\(error)")
            RuntimeLog.write("bootstrap: init failed: \(failure)")
            try? client.failInit(failure)
            exit(1)
        }
        let failure = await RuntimeLoop(client: client, function: function).run()
        RuntimeLog.write("bootstrap: stopping: \(failure)")
        exit(1)
    }
}

/// The process environment as a dictionary, read once.
enum Environment {
    static var current: [String: String] {
        var result: [String: String] = [:]
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

/// Builds the function `_HANDLER` names, with the dependencies the environment selects.
struct FunctionFactory {
    let environment: [String: String]

    func make() throws -> AnyLambdaFunction {
        guard let handler = environment["_HANDLER"], let name = FunctionName(rawValue: handler) else {
            throw InvocationError(
                errorType: "Runtime.InvalidHandler",
                errorMessage: "_HANDLER must be one of \(FunctionName.allCases.map(\.rawValue).joined(separator: ", ")); got \(environment["_HANDLER"] ?? "nothing")")
        }
        let dependencies = Dependencies(store: try store(), ai: try AIProviderSelection.provider(environment: environment),
                                        poster: HTTPConnectionPoster(), configuration: Configuration(environment: environment))
        return Functions.make(name, dependencies: dependencies)
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
