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
