import Crypto
import Foundation
import Handlers

/// How a function of any runtime starts: its runtime process's command, folder and environment,
/// as Lambda sets them up, so that code deployed unchanged runs the same here.
struct RuntimeLauncher: Sendable {
    /// local-runtime's own environment; only `passedThrough` names reach the functions.
    let hostEnvironment: [String: String]
    /// Where the Node client and unpacked zips are kept (the state folder): nothing is written elsewhere.
    let stateDirectory: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What a function gets from the shell that runs local-runtime: credentials (Lambda gives its
    /// role's), endpoint overrides (so an app's SDK calls reach moto or DynamoDB Local), and CA
    /// bundles; everything else comes from the template, as in Lambda.
    static func passedThrough(_ name: String) -> Bool {
        name.hasPrefix("AWS_ENDPOINT_URL") || [
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE", "AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "PATH", "HOME", "LANG",
        ].contains(name)
    }

    /// Where Python functions' bytecode is cached (`PYTHONPYCACHEPREFIX`), mirroring source paths.
    var pythonCache: String { URL(fileURLWithPath: stateDirectory).appendingPathComponent("python-cache").path }

    func definition(for function: Template.Function, region: String) throws -> LambdaDefinition {
        guard let family = RuntimeFamily(function.runtime) else { throw Failure(description: "\(function.logicalId): runtime \(function.runtime) is not supported") }
        guard let codeUri = function.codeUri else { throw Failure(description: "\(function.logicalId) has no code") }
        let taskRoot = try codeFolder(codeUri, function: function)
        var environment = hostEnvironment.filter { Self.passedThrough($0.key) }
        environment.merge(function.environment) { $1 }
        let reserved: [String: String] = [
            "_HANDLER": function.handler,
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            "LAMBDA_TASK_ROOT": taskRoot, "LAMBDA_RUNTIME_DIR": stateDirectory,
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(function.functionName)",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]\(function.logicalId)",
            "AWS_EXECUTION_ENV": "AWS_Lambda_\(function.runtime)",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "TZ": ":UTC",
        ]
        environment.merge(reserved) { $1 }
        let command: [String]
        switch family {
        case .provided:
            let bootstrap = URL(fileURLWithPath: taskRoot).appendingPathComponent("bootstrap").path
            guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
                throw Failure(description: "\(function.logicalId): no executable bootstrap in \(codeUri)")
            }
            command = [bootstrap]
        case .python:
            // Bytecode goes to the state folder, not into the app's folders; `serve --watch` clears
            // an app's part of it on a change (see `pythonCache`).
            environment.merge(["PYTHONPATH": taskRoot, "PYTHONUNBUFFERED": "1", "PYTHONPYCACHEPREFIX": pythonCache]) { $1 }
            command = StartLambda.resolve(["python3", "-m", "awslambdaric", function.handler])
        case .node:
            let client = try NodeRuntimeClient.install(in: URL(fileURLWithPath: stateDirectory).appendingPathComponent("runtimes").path)
            environment.merge(["NODE_PATH": URL(fileURLWithPath: taskRoot).appendingPathComponent("node_modules").path]) { $1 }
            command = StartLambda.resolve(["node", client])
        }
        return LambdaDefinition(name: function.functionName, command: command, environment: environment, timeout: function.timeout,
                                memorySize: function.memorySize, workingDirectory: taskRoot)
    }

    /// The function's code as a folder: `CodeUri` itself, or a zip unpacked once per content into
    /// the state folder (`unzip` refuses entries that would land outside it).
    private func codeFolder(_ codeUri: String, function: Template.Function) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: codeUri, isDirectory: &isDirectory) else {
            throw Failure(description: "\(function.logicalId): CodeUri \(codeUri) does not exist")
        }
        if isDirectory.boolValue { return codeUri }
        guard codeUri.hasSuffix(".zip"), let zip = FileManager.default.contents(atPath: codeUri) else {
            throw Failure(description: "\(function.logicalId): CodeUri \(codeUri) is neither a folder nor a .zip")
        }
        let digest = SHA256.hash(data: zip).prefix(8).map { String(format: "%02x", $0) }.joined()
        // Only the id's letters and digits name the folder: a template cannot steer the write elsewhere.
        let name = String(function.logicalId.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }.prefix(64))
        let folder = URL(fileURLWithPath: stateDirectory).appendingPathComponent("code/\(name)-\(digest)").path
        if FileManager.default.fileExists(atPath: folder) { return folder }
        let unpacking = folder + ".partial"
        try? FileManager.default.removeItem(atPath: unpacking)
        try FileManager.default.createDirectory(atPath: unpacking, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: StartLambda.resolve(["unzip"])[0])
        unzip.arguments = ["-q", "-o", codeUri, "-d", unpacking]
        try unzip.run()
        unzip.waitUntilExit()
        guard unzip.terminationStatus == 0 else { throw Failure(description: "\(function.logicalId): unzip \(codeUri) failed (\(unzip.terminationStatus))") }
        try FileManager.default.moveItem(atPath: unpacking, toPath: folder)
        return folder
    }
}

/// Functions that are not this project's own, each in its runtime's process over the Runtime API.
struct ProcessFunctions: FunctionInvoker {
    let pool: LambdaPool
    let launcher: RuntimeLauncher
    let region: String

    func invoke(_ function: Template.Function, payload: [UInt8], requestId: String) async throws -> [UInt8] {
        let definition: LambdaDefinition
        do {
            definition = try launcher.definition(for: function, region: region)
        } catch {
            throw InvocationError(errorType: "Runtime.InvalidEntrypoint", errorMessage: "\(error)")
        }
        return try await pool.invoke(definition, payload: payload, requestId: requestId)
    }
}

/// A template's functions: this project's own through `builtIns` (in-process or its bootstrap),
/// every other through `processes`.
struct TemplateFunctions: FunctionInvoker {
    let builtIns: any FunctionInvoker
    let processes: ProcessFunctions

    func invoke(_ function: Template.Function, payload: [UInt8], requestId: String) async throws -> [UInt8] {
        function.builtIn == nil
            ? try await processes.invoke(function, payload: payload, requestId: requestId)
            : try await builtIns.invoke(function, payload: payload, requestId: requestId)
    }
}

extension ProcessFunctions {
    /// Runs `body` with process functions on a pool of their own, stopped afterwards (`invoke`, `replay`).
    static func withPool<T>(template: Template, statePath: String, functionLogsToStandardError: Bool = true,
                            _ body: (ProcessFunctions) async throws -> T) async throws -> T {
        let pool = LambdaPool(functionLogsToStandardError: functionLogsToStandardError, log: { _ in })
        let functions = ProcessFunctions(pool: pool, launcher: RuntimeLauncher(hostEnvironment: ProcessInfo.processInfo.environment,
                                                                               stateDirectory: StatePath.directory(of: statePath)),
                                         region: template.region)
        do {
            let result = try await body(functions)
            await pool.shutdown()
            return result
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}
