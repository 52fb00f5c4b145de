import NIOCore
import NIOSSL

/// Lets one port speak both plain HTTP/WebSocket and TLS: a connection whose first byte starts a
/// TLS handshake record (0x16) gets a TLS handler in front of the HTTP pipeline; any other goes on
/// as plain text. So `ws://host:port` and `https://host:port` (what a handler builds from
/// `domainName`) reach the same stage.
final class TLSSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let name = "tls-sniffer"
    private static let handshakeRecord: UInt8 = 0x16
    private let context: NIOSSLContext

    init(context: NIOSSLContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if buffer.readableBytesView.first == Self.handshakeRecord {
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: self.context), position: .after(self))
            } catch {
                context.fireErrorCaught(error)
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
