import NIOCore
import WSCore

/// Joins a connection's data frames into whole messages, as API Gateway delivers them: a message is
/// a text or binary frame and the continuation frames up to the one marked `fin`.
///
/// The stage reads frames itself (rather than swift-websocket's `messages(maxSize:)`) so that an
/// oversized message is a stage-owned error (`MessageTooLarge`) it can close the connection for.
struct MessageAssembler {
    /// A message whose frames add up to more than the limit.
    struct MessageTooLarge: Error {}

    /// Frames that do not make a message: a continuation with no message open, a new message
    /// before the open one's `fin`, or a text message that is not UTF-8.
    struct MalformedMessage: Error {}

    let maxBytes: Int
    private var open: (opcode: WebSocketDataFrame.Opcode, data: ByteBuffer)?

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Adds `frame`; returns the message it completes, or nil while the message continues.
    mutating func add(_ frame: WebSocketDataFrame) throws -> WebSocketMessage? {
        var (opcode, data): (WebSocketDataFrame.Opcode, ByteBuffer)
        switch (frame.opcode, open) {
        case (.text, nil), (.binary, nil):
            (opcode, data) = (frame.opcode, frame.data)
        case (.continuation, .some(let started)):
            guard started.data.readableBytes + frame.data.readableBytes <= maxBytes else { throw MessageTooLarge() }
            (opcode, data) = started
            open = nil
            var next = frame.data
            data.writeBuffer(&next)
        default:
            throw MalformedMessage()
        }
        guard data.readableBytes <= maxBytes else { throw MessageTooLarge() }
        guard frame.fin else {
            open = (opcode, data)
            return nil
        }
        if opcode == .binary { return .binary(data) }
        guard let text = String(validating: data.readableBytesView, as: UTF8.self) else { throw MalformedMessage() }
        return .text(text)
    }
}
