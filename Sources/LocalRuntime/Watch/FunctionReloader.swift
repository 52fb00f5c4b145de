import Foundation

/// `serve --watch`: notices changes to the functions' code, rebuilds what needs building, and
/// swaps the functions' runtime processes (`LambdaPool.recycle`) while the stage and its WebSocket
/// connections stay up. Python and Node code needs no build: the next invocation starts a process
/// that loads the saved files. This project's Swift functions are rebuilt (`swift build --product
/// bootstrap`) when they run as the bootstrap; run in-process they are part of this very program,
/// which cannot swap itself, so a change to them is reported with what to do instead.
struct FunctionReloader: Sendable {
    let template: Template
    /// The template's folder: this project's Swift package, when the template has built-in functions.
    let directory: String
    let pool: LambdaPool
    /// Whether built-in functions run as the bootstrap (swappable) rather than in-process.
    let builtInsRunAsBootstrap: Bool
    let interval: Duration
    /// `RuntimeLauncher.pythonCache`: Python checks a cached module against its source's mtime in
    /// whole seconds and its size, so a save within the second of the last compile, of the same
    /// size, would load the old code; the changed functions' part of the cache is removed instead.
    var pythonCache: String? = nil
    let report: @Sendable (String) -> Void

    /// What a change means for each kind of function.
    struct Plan: Equatable {
        /// Pool names (function names, or logical ids of built-ins) whose processes to swap.
        var recycle: Set<String> = []
        var rebuildSwift = false
        var templateChanged = false
    }

    var swiftRoots: [String] {
        template.functions.values.contains { $0.builtIn != nil }
            ? ["Sources", "Package.swift"].map { (directory as NSString).appendingPathComponent($0) } : []
    }

    var roots: [String] {
        Array(Set(template.functions.values.compactMap(\.codeUri) + swiftRoots)).sorted()
    }

    /// Which functions the changed paths belong to.
    func plan(for changed: [String], templatePath: String) -> Plan {
        var plan = Plan()
        for path in changed {
            if path == templatePath { plan.templateChanged = true }
            for function in template.functions.values {
                if let code = function.codeUri, path == code || path.hasPrefix(code.hasSuffix("/") ? code : code + "/") {
                    plan.recycle.insert(function.functionName)
                }
            }
            if swiftRoots.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { plan.rebuildSwift = true }
        }
        return plan
    }

    /// Polls until cancelled.
    func run(templatePath: String) async {
        let templateFile = URL(fileURLWithPath: templatePath).standardizedFileURL.path
        var snapshot = SourceSnapshot(roots: roots + [templateFile])
        report("watch  \(roots.count) folders and files polled every \(interval)")
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = SourceSnapshot(roots: roots + [templateFile])
            let changed = now.changes(since: snapshot)
            snapshot = now
            guard !changed.isEmpty else { continue }
            let started = ContinuousClock.now
            let plan = plan(for: changed, templatePath: templateFile)
            let shown = changed.prefix(3).map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + (changed.count > 3 ? ", …" : "")
            if plan.templateChanged { report("reload  template changed: restart serve to apply new routes or settings") }
            if !plan.recycle.isEmpty {
                if let pythonCache {
                    for function in template.functions.values where plan.recycle.contains(function.functionName) {
                        guard let code = function.codeUri else { continue }
                        try? FileManager.default.removeItem(atPath: (pythonCache as NSString).appendingPathComponent(code))
                    }
                }
                await pool.recycle(plan.recycle)
                report("reload  \(plan.recycle.sorted().joined(separator: ", "))  \(shown) changed: the next invocation runs the new code")
            }
            if plan.rebuildSwift { await rebuildSwift(shown: shown, started: started) }
        }
    }

    private func rebuildSwift(shown: String, started: ContinuousClock.Instant) async {
        guard builtInsRunAsBootstrap else {
            report("reload  \(shown) changed: Swift functions run in-process; serve with --runtime bootstrap --watch to swap them live, or restart")
            return
        }
        report("reload  \(shown) changed: swift build --product bootstrap …")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: StartLambda.resolve(["swift"])[0])
        build.arguments = ["build", "--product", "bootstrap"]
        build.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        build.standardOutput = output
        build.standardError = output
        do {
            try build.run()
        } catch {
            report("reload  cannot run swift build: \(error)")
            return
        }
        let text = output.fileHandleForReading.readDataToEndOfFile()
        build.waitUntilExit()
        guard build.terminationStatus == 0 else {
            let tail = String(decoding: text, as: UTF8.self).split(separator: "\n").suffix(15).joined(separator: "\n")
            report("reload  swift build failed; the previous bootstrap keeps serving\n\(tail)")
            return
        }
        await pool.recycle(Set(template.functions.values.filter { $0.builtIn != nil }.map(\.logicalId)))
        report("reload  bootstrap rebuilt in \(Int(Milliseconds.since(started))) ms: Swift functions swapped")
    }
}
