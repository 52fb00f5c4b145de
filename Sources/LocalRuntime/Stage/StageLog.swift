import Foundation
import Handlers
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
    /// The event the function was handed and the response it returned, for the dev console to show
    /// on click; nil where there is none (`@connections` calls, a failed invocation's response).
    /// Kept as the function saw them (`ConsoleBody.kept`: at most `ConsoleBody.keptBytes` apiece,
    /// since the feed keeps `InvocationFeed.backlogLimit` records) and redacted and shortened only
    /// when a console reads the record (`encode(to:)`), so that the stage does not parse and write
    /// every invocation's JSON once more for a page nobody may have open.
    var event: [UInt8]? = nil
    var response: [UInt8]? = nil

    enum CodingKeys: String, CodingKey {
        case function, route, id, status, milliseconds, event, response
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(function, forKey: .function)
        try container.encode(route, forKey: .route)
        try container.encode(id, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(milliseconds, forKey: .milliseconds)
        try container.encodeIfPresent(event.map(ConsoleBody.text), forKey: .event)
        try container.encodeIfPresent(response.map(ConsoleBody.text), forKey: .response)
    }

    var line: String {
        "\(function)  \(route)  \(id)  \(status)  \(Milliseconds.text(milliseconds)) ms"
    }

    /// Names the columns of `line`, printed once when the stage is ready. The id is the connection
    /// id on WebSocket routes and `@connections` (what `post_to_connection` takes), the request id
    /// on HTTP routes.
    static let header = "function  route  id (connectionId or requestId)  status  duration"
}

/// The event or response JSON an `InvocationRecord` carries for the dev console: credentials
/// redacted as `--record` redacts them (`EventRecorder.redactingCredentials`: the event's and a
/// proxy response's `headers`, `cookies` and token-like query parameters), then at most
/// `maxBytes`, so that 200 records of large bodies stay a few megabytes.
///
/// An event or proxy response is mostly its `body`, so a large one has that string cut and noted,
/// and stays JSON with its headers, route and status whole; anything else too large is cut as
/// text, no longer JSON, and ends with a note saying how long it was.
enum ConsoleBody {
    static let maxBytes = 16 * 1024
    /// The most of an event or response a record keeps until a console reads it.
    static let keptBytes = 64 * 1024

    /// `json` to keep in a record: itself up to `keptBytes`, else a note of its size (a prefix of
    /// JSON could not be redacted reliably, so none is kept).
    static func kept(_ json: [UInt8]) -> [UInt8] {
        json.count <= keptBytes ? json : Array(#"{"note":"not kept for the console: \#(json.count) bytes"}"#.utf8)
    }

    /// Room left for the note after a cut body, and for escapes in what is kept of it.
    private static let noteBytes = 256

    static func text(_ json: [UInt8]) -> String {
        let redacted = EventRecorder.redactingCredentials(json)
        guard redacted.count > maxBytes else { return String(decoding: redacted, as: UTF8.self) }
        if case .object(var members)? = try? JSONValue(parsing: redacted), case .string(let body)? = members["body"] {
            let kept = maxBytes - noteBytes - (redacted.count - body.utf8.count)
            if kept > 0 {
                // A cut inside a multi-byte character decodes to U+FFFD rather than failing.
                members["body"] = .string(String(decoding: body.utf8.prefix(kept), as: UTF8.self)
                    + "… (truncated: \(body.utf8.count) bytes in all)")
                let shortened = JSONValue.object(members).jsonBytes
                if shortened.count <= maxBytes { return String(decoding: shortened, as: UTF8.self) }
            }
        }
        return String(decoding: redacted.prefix(maxBytes), as: UTF8.self) + "\n… (truncated: \(redacted.count) bytes in all)"
    }
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
