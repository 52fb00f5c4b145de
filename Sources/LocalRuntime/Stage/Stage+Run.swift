import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import ServiceLifecycle

extension Stage {
    /// Serves until SIGINT or SIGTERM; on shutdown every open connection is closed with 1001 and gets
    /// its `$disconnect`.
    func run() async throws {
        let app = Application(
            responder: CallbackResponder<StageRequestContext> { request, context in try await self.respond(to: request, context: context) },
            server: HTTPServerBuilder { responder in StageChannel(responder: responder, stage: self) },
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port), serverName: nil,
                availableConnectionsDelegate: ConnectionCap(limit: settings.maxConnections, log: { StageLog.write($0) })),
            services: [TimeoutService(stage: self)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? self.settings.port
                self.bound(port: port)
                let base = "\(self.settings.host):\(port)"
                StageLog.write("""
                    local-runtime stage \(self.stageName) ready
                      WebSocket     ws://\(base)/\(self.stageName)
                      HTTP API      http://\(base)
                      @connections  http://\(base)/\(self.stageName)/@connections/{connectionId}
                      dev console   http://\(base)/_dev\(self.settings.tls.map { "\n  TLS           https:// and wss:// on the same port (CA: \($0.caCertificate))" } ?? "")
                    \(InvocationRecord.header)
                    """)
            }
        )
        try await app.runService()
    }
}

/// Closes connections past API Gateway's idle and hard timeouts while the stage runs.
struct TimeoutService: Service {
    let stage: Stage

    func run() async throws {
        await cancelWhenGracefulShutdown { await stage.enforceTimeouts() }
    }
}
