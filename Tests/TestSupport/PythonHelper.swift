import Foundation

/// A Python helper script run as a child process for the duration of one test: it prints one line
/// when it is ready (its port, say) and serves until its stdin closes or it is terminated.
///
/// Waiting for that line and for the exit blocks a thread, so both happen on a thread of their own.
/// Blocking one of Swift's cooperative threads instead (two on a 2-core machine) stalls every other
/// test in the process, and with them the timers of tests about timeouts.
public enum PythonHelper {
    public struct DidNotStart: Error, CustomStringConvertible {
        public var script: String
        public init(script: String) { self.script = script }
        public var description: String { "\(script) exited before printing its ready line" }
    }

    /// Runs `script` with `arguments`, passes its first line of output to `body`, and stops the
    /// script afterwards, whatever `body` did.
    public static func run<T>(script: URL, arguments: [String] = [], _ body: (String) async throws -> T) async throws -> T {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let outcome: Result<T, any Error>
        if let line = await offThePool({ firstLine(of: output.fileHandleForReading) }) {
            do {
                outcome = .success(try await body(line))
            } catch {
                outcome = .failure(error)
            }
        } else {
            outcome = .failure(DidNotStart(script: script.lastPathComponent))
        }
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        await offThePool { process.waitUntilExit() }
        return try outcome.get()
    }

    private static func firstLine(of handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let data = handle.availableData
            if data.isEmpty { return nil }
            bytes.append(contentsOf: data)
            if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                return String(decoding: bytes[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            }
        }
    }

    /// `work` on a thread outside Swift's cooperative pool.
    private static func offThePool<R: Sendable>(_ work: @escaping @Sendable () -> R) async -> R {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}
