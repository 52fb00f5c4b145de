import Foundation

/// One line per invocation on standard output: time, function, route, connection or request id,
/// status, duration — what `sam local` and API Gateway's access logs give, in one place.
struct InvocationRecord: Sendable, Encodable {
    var function: String
    var route: String
    var id: String
    var status: String
    var milliseconds: Double

    var line: String {
        "\(function)  \(route)  \(id)  \(status)  \(String(format: "%.2f", milliseconds)) ms"
    }
}

/// Writes stage log lines unbuffered, so that a process reading the stage's output sees each line
/// as it happens.
enum StageLog {
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// `--record DIR`: writes every event the stage hands a handler as a fixture `replay` accepts as is,
/// numbered so that lexical order is arrival order.
actor EventRecorder {
    private let directory: URL
    private var next = 1

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        next = existing.compactMap { Int($0.prefix(while: \.isNumber)) }.max().map { $0 + 1 } ?? 1
    }

    func record(_ payload: [UInt8], function: String) {
        let name = String(format: "%04d-%@.json", next, function)
        next += 1
        FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data(payload))
    }
}
