/// One event of a `text/event-stream` body.
struct ServerSentEvent: Sendable, Equatable {
    var type: String = "message"
    var data: String
    var id: String?
}

/// Incremental parser for server-sent events (the WHATWG event-stream format), fed bytes exactly as
/// the network delivers them.
///
/// Lines end with CRLF, LF or CR; a chunk may end anywhere — inside a line, inside a multi-byte
/// character, between the CR and the LF of one line terminator — so bytes are buffered until a line is
/// complete and only whole lines are decoded. Comment lines (`:`) and unknown fields are ignored;
/// `data` lines accumulate until a blank line dispatches the event. A line longer than `maximumLineLength`
/// is an error rather than unbounded memory.
struct ServerSentEventParser: Sendable {
    struct LineTooLong: Error, CustomStringConvertible {
        var limit: Int
        var description: String { "an event-stream line is longer than \(limit) bytes" }
    }

    let maximumLineLength: Int
    private var line: [UInt8] = []
    /// The previous chunk ended with CR: an LF starting the next chunk belongs to that terminator.
    private var skipLeadingLineFeed = false
    private var data: [String] = []
    private var type: String?
    private var lastEventId: String?
    private var startOfStream = true

    init(maximumLineLength: Int = 1 << 20) {
        self.maximumLineLength = maximumLineLength
    }

    /// The events completed by `bytes`, in order.
    mutating func consume(_ bytes: some Sequence<UInt8>) throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if skipLeadingLineFeed {
                skipLeadingLineFeed = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\r"):
                skipLeadingLineFeed = true
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\n"):
                if let event = endLine() { events.append(event) }
            default:
                guard line.count < maximumLineLength else { throw LineTooLong(limit: maximumLineLength) }
                line.append(byte)
            }
        }
        return events
    }

    /// Whether bytes of an unfinished event are pending: at the end of the body this means the stream
    /// was cut off mid-event (the format discards such an event).
    var hasPartialEvent: Bool { !line.isEmpty || !data.isEmpty }

    private mutating func endLine() -> ServerSentEvent? {
        var bytes = line[...]
        line.removeAll(keepingCapacity: true)
        if startOfStream {
            startOfStream = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        if bytes.isEmpty { return dispatch() }
        if bytes.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = text[...]
            value = ""
        }
        switch field {
        case "data": data.append(String(value))
        case "event": type = String(value)
        case "id" where !value.contains("\u{0}"): lastEventId = String(value)
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            data.removeAll()
            type = nil
        }
        guard !data.isEmpty else { return nil }
        let eventType = type.flatMap { $0.isEmpty ? nil : $0 } ?? "message"
        return ServerSentEvent(type: eventType, data: data.joined(separator: "\n"), id: lastEventId)
    }
}
