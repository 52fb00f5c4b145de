import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line per invocation on standard output: time, function, route, connection or request id,
/// status, duration — what `sam local` and API Gateway's access logs give, in one place.
struct InvocationRecord: Sendable, Encodable {
    var function: String
    var route: String
    var id: String
    var status: String
    var milliseconds: Double

    var line: String {
        "\(function)  \(route)  \(id)  \(status)  \(Milliseconds.text(milliseconds)) ms"
    }

    /// Names the columns of `line`, printed once when the stage is ready. The id is the connection
    /// id on WebSocket routes and `@connections` (what `post_to_connection` takes), the request id
    /// on HTTP routes.
    static let header = "function  route  id (connectionId or requestId)  status  duration"
}

/// Writes stage log lines unbuffered, so that a process reading the stage's output sees each line
/// as it happens: one `write(2)` per line, straight from the string's UTF-8, without Foundation's
/// `FileHandle` and a `Data` copy. A line that cannot be written (stdout closed) is dropped.
enum StageLog {
    static func write(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { writeAll($0, to: STDOUT_FILENO) }
    }
}

/// Writes all of `bytes` to `descriptor`, retrying after signals and partial writes; gives up on an error.
private func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: Int32) {
    guard var next = bytes.baseAddress else { return }
    var remaining = bytes.count
    while remaining > 0 {
        let written = write(descriptor, next, remaining)
        if written > 0 {
            next += written
            remaining -= written
        } else if written < 0, errno == EINTR {
            continue
        } else {
            return
        }
    }
}
