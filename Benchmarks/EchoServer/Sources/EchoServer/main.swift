import Hummingbird
import HummingbirdWebSocket

/// Echoes every WebSocket text or binary message back on `ws://127.0.0.1:PORT/echo`.
/// Usage: EchoServer PORT (the benchmark waits for the port to accept connections).
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 8090
let router = Router(context: BasicWebSocketRequestContext.self)
router.ws("/echo") { inbound, outbound, _ in
    for try await message in inbound.messages(maxSize: 1 << 20) {
        switch message {
        case .text(let text): try await outbound.write(.text(text))
        case .binary(let bytes): try await outbound.write(.binary(bytes))
        }
    }
}
let app = Application(
    router: Router(),
    server: .http1WebSocketUpgrade(webSocketRouter: router),
    configuration: .init(address: .hostname("127.0.0.1", port: port))
)
try await app.runService()
