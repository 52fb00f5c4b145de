import Logging
import NIOCore
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// Runs one accepted WebSocket connection's frames through swift-websocket's server-side frame
/// handling: pings, the close handshake, reserved bits and opcodes, and the outbound writer.
///
/// swift-websocket (1.6.2) offers that handling to servers only as SPI (`@_spi(WSInternal)`
/// `WebSocketHandler.handle`); its public server entry point is HummingbirdWebSocket's upgrade,
/// which answers every refused handshake with a bare 400 where the stage must answer with the
/// status `$connect` returned (`StageChannel`). This file is the only place that uses the SPI.
/// Once swift-websocket makes a server-side handler public, or HummingbirdWebSocket lets an upgrade
/// be refused with a chosen response, `run` is the one function to replace with it.
enum WebSocketSession {
    /// The close frame the client sent, if it sent one.
    struct ClientClose: Sendable {
        var code: Int
        var reason: String?
    }

    /// Serves `frames` with `serve` until the connection closes, with frames and messages up to
    /// `maxFrameSize` bytes and text frames validated as UTF-8; returns the client's close frame.
    static func run(
        frames: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, maxFrameSize: Int, logger: Logger,
        serve: @escaping @Sendable (_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async -> Void
    ) async throws -> ClientClose? {
        let configuration = WebSocketHandler.Configuration(
            extensions: [], autoPing: .disabled, validateUTF8: true, maxFrameSize: maxFrameSize)
        let closeFrame = try await WebSocketHandler.handle(
            type: .server, configuration: configuration, asyncChannel: frames, context: Context(logger: logger),
            handler: { inbound, outbound, _ in await serve(inbound, outbound) })
        return closeFrame.map { ClientClose(code: Int(UInt16(webSocketErrorCode: $0.closeCode)), reason: $0.reason) }
    }

    private struct Context: WebSocketContext {
        let logger: Logger
    }
}
