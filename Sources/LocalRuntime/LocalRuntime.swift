import ArgumentParser
import Foundation
import Handlers
import SQLiteStore

@main
struct LocalRuntime: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-runtime",
        abstract: "Runs the chat-widget Lambda functions locally, the way API Gateway and Lambda would.",
        subcommands: [Serve.self, StartLambda.self, Invoke.self, GenerateEvent.self, Replay.self, Widgets.self, Events.self, Admin.self]
    )

    static func main() async {
        SQLiteStore.keepFreedHeapMemory()
        await main(nil)
    }
}

/// How `serve`, `replay` and `invoke` run functions: in-process (the default), or as the deployed
/// `bootstrap` in warm processes over the Runtime API.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "in-process, or bootstrap: the deployed binary in warm processes over the Runtime API.")
    var runtime: StartLambda.RuntimeKind = .inProcess

    @Option(name: .long, help: "The bootstrap executable for --runtime bootstrap (default: the one built beside local-runtime).")
    var bootstrap: String?

    /// The bootstrap to run, or nil for in-process.
    var bootstrapPath: String? {
        runtime == .bootstrap ? bootstrap ?? BootstrapInvoker.defaultBootstrapPath() : nil
    }
}

/// Options shared by every subcommand that reads the template, named as SAM CLI names them.
struct TemplateOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .long], help: "The SAM template, YAML or JSON (default: template.json, template.yaml or template.yml, the first that exists).")
    var template: String?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp(
        "Parameter values: Key=Value Key2=Value2, or ParameterKey=Key,ParameterValue=Value (as sam deploy takes them).",
        valueName: "overrides"))
    var parameterOverrides: [String] = []

    @Option(name: .long, help: "A JSON file of environment values as sam local takes it: {\"Parameters\": {...} for every function, \"LogicalId\": {...} for one}; it replaces only variables the template declares.")
    var envVars: String?

    @Option(name: .long, help: "A .env file (NAME=value lines) whose variables every function of the template gets.")
    var envFile: String?

    @Option(name: .long, help: "The WebSocket API to serve (its logical id) when the template has several; run one serve per API, each on its own --port.")
    var websocketApi: String?

    /// The template file: `--template`, else the first of SAM CLI's default names that exists.
    var path: String {
        template ?? ["template.json", "template.yaml", "template.yml"].first { FileManager.default.fileExists(atPath: $0) } ?? "template.json"
    }

    func load() throws -> Template {
        do {
            let environment = ProcessInfo.processInfo.environment
            let inputs = Template.Inputs(
                parameterOverrides: try TemplateParameters.parseOverrides(parameterOverrides),
                environment: try EnvironmentOverrides.load(envVars: envVars, envFile: envFile),
                region: environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1",
                webSocketAPI: websocketApi)
            return try Template.load(path: path, inputs: inputs)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Invokes one function with an event and prints its response, like `sam local invoke -e`.",
        discussion: """
            The function runs in-process (or, with --runtime bootstrap, in the deployed binary over the Runtime API) \
            against the same state as serve and the admin commands (--state, --store), so a widget added with \
            `widgets add` is there; frames it posts to @connections are printed on standard error.
            """ + "\n\n" + EnvironmentHelp.functions + "\n\n" + EnvironmentHelp.state)

    @Argument(help: "The function: a handler name (connect, disconnect, sendMessage, chat, admin) or a logical id.")
    var function: String

    @Option(name: .long, help: "The event JSON file, or - for standard input.")
    var event: String

    @Option(name: .long, help: "The SQLite state file (default: STATE_PATH, else .local-runtime/state.sqlite).")
    var state = StatePath.default

    @Option(name: .long, help: "Where state lives: sqlite (the --state file) or dynamodb.")
    var store: StoreOption = .sqlite

    @Option(name: .long, help: "Where replies come from: environment (AI_API_KEY's provider if set, else embedded) or embedded.")
    var ai: AISource = .environment

    @OptionGroup var runtimeOptions: RuntimeOptions

    @OptionGroup var templateOptions: TemplateOptions

    func run() async throws {
        let template = try templateOptions.load()
        guard let target = template.function(named: function) else {
            throw ValidationError("no function \(function) in \(templateOptions.path); known: \(template.functions.values.map(\.displayName).sorted().joined(separator: ", "))")
        }
        let payload: [UInt8]
        if event == "-" {
            payload = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: event) else { throw ValidationError("cannot read \(event)") }
            payload = Array(data)
        }
        let environment = try LocalAdminSecret.environment(ProcessInfo.processInfo.environment, statePath: state)
        let store = try await self.store.openOrExplain(statePath: state, environment: environment)
        try await LocalFunctions.seedDemoWidget(in: store, now: Date())
        let poster = CollectingPoster()
        do {
            let output = try await invoke(target, payload: payload, template: template, store: store, poster: poster,
                                          environment: environment)
            for frame in poster.drain() {
                FileHandle.standardError.write(Data("POST @connections/\(frame.connectionId) \(String(decoding: frame.data, as: UTF8.self))\n".utf8))
            }
            print(try prettyJSON(output))
        } catch let error as InvocationError {
            print(JSONCoding.string(["errorType": error.errorType, "errorMessage": error.errorMessage]))
            throw ExitCode(1)
        }
    }

    /// Runs the function in-process, or in a `bootstrap` process over the Runtime API with the
    /// same state (`--runtime bootstrap`), its `@connections` posts collected either way.
    private func invoke(_ function: Template.Function, payload: [UInt8], template: Template, store: any Store,
                        poster: CollectingPoster, environment: [String: String]) async throws -> [UInt8] {
        if function.builtIn == nil {
            return try await ProcessFunctions.withPool(template: template, statePath: state) { processes in
                try await processes.invoke(function, payload: payload, requestId: AWSIdentifiers.lambdaRequestId())
            }
        }
        guard let bootstrapPath = runtimeOptions.bootstrapPath else {
            let functions = LocalFunctions(template: template, store: store, clock: SystemClock(), poster: poster, ai: ai,
                                           processEnvironment: environment)
            return try await functions.invoke(function, payload: payload)
        }
        return try await ConnectionsCollector.run(stageName: template.stageName, poster: poster) { endpoint in
            var environment = environment
            environment["STORE"] = self.store.rawValue
            environment["STATE_PATH"] = URL(fileURLWithPath: state).path
            environment["WEBSOCKET_MANAGEMENT_ENDPOINT"] = endpoint
            if ai == .embedded { environment["AI_API_KEY"] = nil }
            let pool = LambdaPool(functionLogsToStandardError: true, log: { _ in })
            do {
                let output = try await BootstrapInvoker(pool: pool, bootstrapPath: bootstrapPath, environment: environment)
                    .invoke(function, payload: payload, requestId: AWSIdentifiers.lambdaRequestId())
                await pool.shutdown()
                return output
            } catch {
                await pool.shutdown()
                throw error
            }
        }
    }

    private func prettyJSON(_ bytes: [UInt8]) throws -> String {
        let value = try JSONValue(parsing: bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replays recorded events in order against one fresh store and checks their expectations.")

    @Argument(help: "Fixture files or directories (searched recursively, lexical order).")
    var paths: [String]

    @Option(name: .long, help: "Where replies come from: embedded (deterministic) or environment (AI_API_KEY's provider, if set).")
    var ai: AISource = .embedded

    @OptionGroup var runtimeOptions: RuntimeOptions

    @OptionGroup var templateOptions: TemplateOptions

    func run() async throws {
        let template = try templateOptions.load()
        let files: [String]
        do {
            files = try ReplayRunner.fixtures(in: paths)
        } catch {
            throw ValidationError("\(error)")
        }
        let runner = ReplayRunner(template: template, ai: ai, bootstrapPath: runtimeOptions.bootstrapPath)
        let (passed, failed) = try await runner.run(files) { print($0.line) }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
