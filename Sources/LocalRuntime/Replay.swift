import ArgumentParser
import Foundation
import Handlers
import SQLiteStore

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
        let files: [String]
        do {
            files = try ReplayRunner.fixtures(in: paths)
        } catch {
            throw ValidationError("\(error)")
        }
        let template = try templateOptions.load()
        let runner = ReplayRunner(template: template, ai: ai, bootstrapPath: runtimeOptions.bootstrapPath)
        let (passed, failed) = try await runner.run(files) { print($0.line) }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

/// What a fixture `x.json` expects, read from `x.expected.json`: the response's status, a subset of
/// its JSON body, and optionally a subset of each frame the handler posted to the connection, or
/// the `errorType` of a failed invocation.
struct Expectation: Decodable, Sendable {
    var statusCode: Int?
    var body: JSONValue?
    var frames: [JSONValue]?
    var errorType: String?
}

/// The outcome of one replayed fixture.
struct ReplayResult: Sendable {
    var path: String
    var function: String
    var route: String
    var statusCode: Int?
    var failures: [String]
    var milliseconds: Double

    var passed: Bool { failures.isEmpty }

    var line: String {
        let status = statusCode.map(String.init) ?? "error"
        let verdict = passed ? "PASS" : "FAIL"
        let head = "\(verdict)  \(path)  \(function) \(route) -> \(status)  (\(Milliseconds.text(milliseconds)) ms)"
        return passed ? head : head + failures.map { "\n      \($0)" }.joined()
    }
}

/// Replays recorded events through the functions: fixtures in lexical order, one fresh store shared
/// by the whole run, the clock set to each event's recorded time, and each fixture's
/// `.expected.json` checked against the response and the frames its handler posted.
struct ReplayRunner {
    let template: Template
    /// Embedded by default: expectations hold only for deterministic replies.
    var ai: AISource = .embedded
    /// Set to replay through real `bootstrap` processes over the Runtime API instead of in-process.
    var bootstrapPath: String?

    /// The environment functions replay with: the process's, with `ADMIN_JWT_SECRET` always the
    /// replay secret that admin fixtures' tokens are signed with, whatever the shell sets.
    static func environment(_ process: [String: String]) -> [String: String] {
        process.merging(["ADMIN_JWT_SECRET": LocalAdminSecret.replay]) { $1 }
    }

    /// The fixture files under `paths`: files as given, directories searched recursively, each
    /// directory's files in lexical order; expectation files are not fixtures.
    static func fixtures(in paths: [String]) throws -> [String] {
        var files: [String] = []
        // A directory named several times is listed once.
        var listed: [String: [String]] = [:]
        for path in paths {
            if let known = listed[path] {
                files += known
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationFailure("no such file or directory: \(path)")
            }
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(atPath: path)
                var found: [String] = []
                while let relative = enumerator?.nextObject() as? String {
                    if relative.hasSuffix(".json"), !relative.hasSuffix(".expected.json") {
                        found.append((path as NSString).appendingPathComponent(relative))
                    }
                }
                let sorted = found.sorted()
                listed[path] = sorted
                files += sorted
            } else {
                files.append(path)
            }
        }
        return files
    }

    func run(_ files: [String], report: (ReplayResult) -> Void) async throws -> (passed: Int, failed: Int) {
        let clock = SettableClock(Date(timeIntervalSince1970: 0))
        let poster = CollectingPoster(tracksConnections: true)
        let routing = EventRouting(template: template)
        var passed = 0
        var failed = 0
        // A path given more than once (a directory replayed several times) is read, parsed and
        // routed once: the fixture's bytes, its expectation and its route do not change in a run.
        var prepared: [String: PreparedFixture] = [:]
        var requestIds = SplitMix64()  // drawn per event; seeded once per run
        func replayAll(with invoker: any FunctionInvoker) async {
            for file in files {
                let fixture: PreparedFixture
                if let known = prepared[file] {
                    fixture = known
                } else {
                    fixture = Self.prepare(file, routing: routing)
                    prepared[file] = fixture
                }
                let result = await replay(fixture, invoker: invoker, clock: clock, poster: poster,
                                          requestId: AWSIdentifiers.lambdaRequestId(using: &requestIds))
                report(result)
                if result.passed { passed += 1 } else { failed += 1 }
            }
        }
        try await ProcessFunctions.withPool(template: template, statePath: StatePath.default) { processes in
            if let bootstrapPath {
                try await BootstrapReplay.run(template: template, bootstrapPath: bootstrapPath, poster: poster) { invoker in
                    await replayAll(with: TemplateFunctions(builtIns: invoker, processes: processes))
                }
            } else {
                let store = try SQLiteStore(.inMemory)
                try await LocalFunctions.seedDemoWidget(in: store, now: clock.now())
                let builtIns = LocalFunctions(template: template, store: store, clock: clock, poster: poster, ai: ai,
                                              processEnvironment: ReplayRunner.environment(ProcessInfo.processInfo.environment))
                await replayAll(with: TemplateFunctions(builtIns: builtIns, processes: processes))
            }
        }
        return (passed, failed)
    }

    /// A fixture read from disk with its expectation and its route, or why it cannot be replayed.
    struct PreparedFixture {
        var path: String
        var expectation: Expectation?
        var payload: [UInt8]
        var routed: EventRouting.Routed?
        /// Set when the fixture cannot be replayed; the result then carries it as its failure.
        var problem: String?
    }

    static func prepare(_ file: String, routing: EventRouting) -> PreparedFixture {
        var fixture = PreparedFixture(path: file, expectation: nil, payload: [], routed: nil, problem: nil)
        do {
            fixture.expectation = try Self.expectation(for: file)
        } catch {
            fixture.problem = "unreadable expectation: \(error)"
            return fixture
        }
        guard let payload = FileManager.default.contents(atPath: file).map(Array.init) else {
            fixture.problem = "cannot read the fixture"
            return fixture
        }
        fixture.payload = payload
        do {
            fixture.routed = try routing.route(payload)
        } catch {
            fixture.problem = "\(error)"
        }
        return fixture
    }

    private func replay(_ fixture: PreparedFixture, invoker: any FunctionInvoker, clock: SettableClock, poster: CollectingPoster,
                        requestId: String) async -> ReplayResult {
        var result = ReplayResult(path: fixture.path, function: "?", route: "?", statusCode: nil, failures: [], milliseconds: 0)
        guard let routed = fixture.routed else {
            result.failures.append(fixture.problem ?? "cannot read the fixture")
            return result
        }
        let expectation = fixture.expectation
        let payload = fixture.payload
        result.function = routed.function.displayName
        result.route = routed.route
        if let time = routed.time { clock.set(time) }
        // The event's connection is open while its handler runs, as on the stage; after its
        // `$disconnect`, posts to it are refused as gone.
        if let connectionId = routed.connectionId { poster.open(connectionId) }
        defer { if routed.disconnects, let connectionId = routed.connectionId { poster.close(connectionId) } }
        let started = ContinuousClock.now
        let response: JSONValue?
        var errorType: String?
        do {
            let output = try await invoker.invoke(routed.function, payload: payload, requestId: requestId)
            response = try JSONValue(parsing: output)
        } catch let error as InvocationError {
            response = nil
            errorType = error.errorType
        } catch {
            response = nil
            errorType = String(describing: type(of: error))
        }
        let elapsed = ContinuousClock.now - started
        result.milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        let posted = poster.drain()
        result.statusCode = response?["statusCode"]?.intValue
        guard let expectation else { return result }
        let frames = posted.map { try? JSONValue(parsing: $0.data) }
        result.failures = Self.compare(expectation, response: response, errorType: errorType, frames: frames)
        return result
    }

    static func expectation(for file: String) throws -> Expectation? {
        let path = String(file.dropLast(".json".count)) + ".expected.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(Expectation.self, from: data)
    }

    static func compare(_ expected: Expectation, response: JSONValue?, errorType: String?, frames: [JSONValue?]) -> [String] {
        var failures: [String] = []
        if let wanted = expected.errorType {
            if errorType != wanted { failures.append("expected invocation error \(wanted), got \(errorType ?? "a response")") }
            return failures
        }
        guard let response else {
            return ["the invocation failed with \(errorType ?? "an error")"]
        }
        if let status = expected.statusCode, response["statusCode"]?.intValue != status {
            failures.append("statusCode: expected \(status), got \(response["statusCode"]?.intValue.map(String.init) ?? "none")")
        }
        if let wanted = expected.body {
            let text = response["body"]?.stringValue ?? ""
            let actual = try? JSONValue(parsing: text)
            if !(actual?.contains(wanted) ?? false) {
                failures.append("body: expected to contain \(JSONCoding.string(wanted)), got \(text.prefix(300))")
            }
        }
        if let wanted = expected.frames {
            if wanted.count != frames.count {
                failures.append("frames: expected \(wanted.count), got \(frames.count)")
            }
            for (index, (frame, expectedFrame)) in zip(frames, wanted).enumerated() where !(frame?.contains(expectedFrame) ?? false) {
                failures.append("frame \(index): expected to contain \(JSONCoding.string(expectedFrame)), got \(frame.map { JSONCoding.string($0) } ?? "non-JSON")")
            }
        }
        return failures
    }
}

/// A user error worth one clear line rather than a stack of details.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
