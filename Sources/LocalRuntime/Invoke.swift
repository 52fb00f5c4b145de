import ArgumentParser
import Foundation
import Handlers
import SQLiteStore

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
