import Foundation
import Handlers
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// The stage's connection handling: HTTP/1.1 with WebSocket upgrades decided by `$connect`.
///
/// HummingbirdWebSocket answers every declined upgrade with a bare 400, but API Gateway answers a
/// refused handshake with the status (and body) `$connect` returned, and clients such as widget
/// pages depend on telling 403 from 400. So the stage negotiates the upgrade itself with NIO's
/// upgrader and reuses Hummingbird's HTTP handling and swift-websocket's frame handling.
struct StageChannel: HTTPChannelHandler {
    enum Negotiated: Sendable {
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HandshakeRefusal)
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, AcceptedHandshake)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: Responder
    let stage: Stage

    /// The pipeline of a new connection. Besides HTTP/1.1 and the upgrade, it bounds what a client
    /// can hold: the first request head must arrive within the header-read timeout
    /// (`HeaderReadDeadline`), a kept-alive connection idle for the HTTP idle timeout is closed
    /// (`HTTPConnectionStateHandler`), and a head above the size limit or one that does not parse
    /// is answered 431 or 400 and closed (`StageHTTPErrorHandler`).
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let settings = stage.settings
            if let tls = settings.tls {
                try channel.pipeline.syncOperations.addHandler(TLSSniffer(context: tls.context), name: TLSSniffer.name)
            }
            try channel.pipeline.syncOperations.addHandler(
                HeaderReadDeadline(timeout: .nanoseconds(Int64(settings.headerReadTimeout * 1e9))), name: HeaderReadDeadline.name)
            let decision = NIOLoopBoundBox<HandshakeDecision?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: settings.maxMessageBytes,
                shouldUpgrade: { channel, head in
                    HeaderReadDeadline.requestHeadArrived(on: channel)
                    let promise = channel.eventLoop.makePromise(of: HandshakeDecision.self)
                    let request = HandshakeRequest(head: head, sourceIp: Stage.ip(of: channel))
                    promise.completeWithTask { await stage.handshake(request) }
                    return promise.futureResult.hop(to: channel.eventLoop).map { outcome in
                        decision.value = outcome
                        if case .accept = outcome { return HTTPHeaders() }
                        return nil
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .accept(let accepted) = decision.value else { throw ChannelError.inappropriateOperationForState }
                        // From here on the channel carries frames, which the HTTP error handler cannot read.
                        StageHTTPErrorHandler.remove(from: channel)
                        let frames = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return .webSocket(frames, accepted)
                    }
                }
            )
            let upgrade = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        HeaderReadDeadline.requestHeadArrived(on: channel)
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        // Closes kept-alive connections idle past the HTTP idle timeout, and lets graceful
                        // shutdown close idle ones instead of waiting on them.
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: .nanoseconds(Int64(settings.httpIdleTimeout * 1e9)), logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if case .refuse(let refusal) = decision.value { return .refused(http, refusal) }
                        return .http(http)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrade)
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            configuration.decoderConfiguration.maxHeaderListSize = settings.maxHeaderBytes
            configuration.decoderConfiguration.maxHeaderFieldSize = settings.maxHeaderBytes
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            // NIO's own error handler answers 400 to everything, 431 included; the stage's goes where
            // NIO would put its own, between the decoder and the upgrade handler.
            let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<Negotiated>.self)
            try channel.pipeline.syncOperations.addHandler(StageHTTPErrorHandler(), name: StageHTTPErrorHandler.name,
                                                           position: .before(upgradeHandler))
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    /// Handles a connection on its channel's event loop (`EventLoopTaskExecutor`).
    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await handleNegotiated(value, logger: logger)
        }
    }

    private func handleNegotiated(_ value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let refusal):
                try await http.executeThenClose { _, outbound in
                    var fields = HTTPFields()
                    fields[.connection] = "close"
                    fields[.contentType] = "application/json"
                    fields[.contentLength] = "\(refusal.body.utf8.count)"
                    try await outbound.write(contentsOf: [
                        .head(HTTPResponse(status: .init(code: refusal.status), headerFields: fields)),
                        .body(ByteBuffer(string: refusal.body)),
                        .end(nil),
                    ])
                }
            case .webSocket(let frames, let accepted):
                let configuration = WebSocketHandler.Configuration(
                    extensions: [], autoPing: .disabled, validateUTF8: true, maxFrameSize: stage.settings.maxMessageBytes)
                let closeFrame = try await WebSocketHandler.handle(
                    type: .server, configuration: configuration, asyncChannel: frames, context: StageWebSocketContext(logger: logger),
                    handler: { inbound, outbound, _ in await stage.serve(accepted, inbound: inbound, outbound: outbound) })
                await stage.connectionEnded(accepted, clientClose: closeFrame.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }, reason: closeFrame?.reason)
            }
        } catch {
            logger.debug("stage connection ended with \(error)")
        }
    }
}

struct StageWebSocketContext: WebSocketContext {
    let logger: Logger
}

/// The parts of a handshake request `$connect` sees.
struct HandshakeRequest: Sendable {
    var path: String
    var headers: [(name: String, value: String)]
    var sourceIp: String

    init(head: HTTPRequestHead, sourceIp: String) {
        path = head.uri
        headers = head.headers.map { (name: $0.name, value: $0.value) }
        self.sourceIp = sourceIp
    }
}

/// What `$connect` decided about a handshake.
enum HandshakeDecision: Sendable {
    case accept(AcceptedHandshake)
    case refuse(HandshakeRefusal)
    /// Not the stage's WebSocket path: answered as plain HTTP.
    case notStage
}

struct AcceptedHandshake: Sendable {
    var connectionId: String
    var connectedAt: Date
    var sourceIp: String
    var userAgent: String?
    /// What the `$connect` authorizer allowed the connection with: every later event carries it.
    var authorizer: [String: JSONValue]? = nil
}

struct HandshakeRefusal: Sendable {
    var status: Int
    var body: String
}
