import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import WSCore
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// Settings of one stage.
struct StageSettings: Sendable {
    var host = "127.0.0.1"
    var port = 3001
    /// API Gateway's limits: 128 KB frames and messages, 10 minutes idle, 2 hours per connection.
    var maxMessageBytes = 128 * 1024
    var idleTimeout: TimeInterval = 600
    var hardTimeout: TimeInterval = 7200
    /// HTTP APIs accept payloads up to 10 MB.
    var maxHTTPBodyBytes = 10 * 1024 * 1024
}

/// The request context of the stage's HTTP side: it keeps the channel, for the client address and
/// to find a handshake that `$connect` rejected.
struct StageRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }
}

/// A local API Gateway stage: the WebSocket API and the HTTP API of a template on one port, with
/// the `@connections` management API, invoking functions through a `FunctionInvoker`.
final class Stage: Sendable {
    let template: Template
    let invoker: any FunctionInvoker
    let settings: StageSettings
    let registry: ConnectionRegistry
    let recorder: EventRecorder?
    private let routeSelection: RouteSelection
    /// Invocation records for the dev console's live log.
    let feed = InvocationFeed()
    /// The port actually bound (differs from the setting when that is 0).
    let boundPort = Mutex<Int?>(nil)

    /// `registry` is given when in-process functions post replies straight to it (`ReplyPath.inProcess`).
    init(template: Template, invoker: any FunctionInvoker, settings: StageSettings, recorder: EventRecorder?,
         registry: ConnectionRegistry = ConnectionRegistry()) {
        self.template = template
        self.registry = registry
        self.invoker = invoker
        self.settings = settings
        self.recorder = recorder
        routeSelection = RouteSelection(expression: template.routeSelectionExpression)
    }

    var stageName: String { template.stageName }

    /// What a `@connections` POST does to this stage's connections.
    var posting: ConnectionPosting { ConnectionPosting(registry: registry, maxMessageBytes: settings.maxMessageBytes) }

    /// The host and port clients reach the stage at, as events report it in `domainName`.
    var domainName: String { "\(settings.host):\(boundPort.withLock { $0 } ?? settings.port)" }

    // MARK: Invocation

    /// Invokes `function` with `payload`, records and logs it; nil when the invocation failed.
    func invoke(_ function: Template.Function, payload: [UInt8], route: String, id: String) async -> JSONValue? {
        if let recorder { await recorder.record(payload, function: function.name.rawValue) }
        let started = ContinuousClock.now
        var status = "error"
        defer {
            let elapsed = ContinuousClock.now - started
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            let record = InvocationRecord(function: function.name.rawValue, route: route, id: id, status: status, milliseconds: milliseconds)
            StageLog.write(record.line)
            feed.publish(record)
        }
        do {
            let output = try await invoker.invoke(function, payload: payload, requestId: AWSIdentifiers.lambdaRequestId())
            let response = try JSONValue(parsing: output)
            status = response["statusCode"]?.intValue.map(String.init) ?? "200"
            return response
        } catch let error as InvocationError {
            status = "error \(error.errorType)"
            StageLog.write("  \(error.errorType): \(error.errorMessage)")
            return nil
        } catch {
            status = "error"
            StageLog.write("  invocation failed: \(error)")
            return nil
        }
    }

    // MARK: WebSocket

    /// Whether `path` addresses the WebSocket stage: `/{stage}`, with a tolerated trailing slash.
    func isStagePath(_ path: String) -> Bool {
        path == "/\(stageName)" || path == "/\(stageName)/"
    }

    /// Runs `$connect` for a handshake; the stage upgrades only when it answers 2xx, as API Gateway does.
    func handshake(_ request: HandshakeRequest) async -> HandshakeDecision {
        guard let components = URLComponents(string: request.path), isStagePath(components.path) else { return .notStage }
        let connectionId = AWSIdentifiers.connectionId()
        let now = Date()
        var headers: [String: String] = [:]
        var multiValueHeaders: [String: [String]] = [:]
        for (name, value) in request.headers {
            headers[name] = headers[name].map { "\($0),\(value)" } ?? value
            multiValueHeaders[name, default: []].append(value)
        }
        let userAgent = HTTPHeaders(headers)["user-agent"]
        var query: [String: String] = [:]
        var multiValueQuery: [String: [String]] = [:]
        for item in components.queryItems ?? [] {
            query[item.name] = item.value ?? ""
            multiValueQuery[item.name, default: []].append(item.value ?? "")
        }
        let accepted = AcceptedHandshake(connectionId: connectionId, connectedAt: now, sourceIp: request.sourceIp, userAgent: userAgent)
        guard let route = template.webSocketRoute("$connect"), let function = template.functions[route.function] else {
            return .accept(accepted)
        }
        let event = WebSocketEvent(
            requestContext: context(route: "$connect", type: .connect, connectionId: connectionId, at: now, connectedAt: now,
                                    sourceIp: request.sourceIp, userAgent: userAgent),
            headers: headers, multiValueHeaders: multiValueHeaders,
            queryStringParameters: query.isEmpty ? nil : query,
            multiValueQueryStringParameters: multiValueQuery.isEmpty ? nil : multiValueQuery)
        guard let response = await invoke(function, payload: event.jsonValue.jsonBytes, route: "$connect", id: connectionId) else {
            return .refuse(HandshakeRefusal(status: 500, body: #"{"message":"Internal server error"}"#))
        }
        let status = response["statusCode"]?.intValue ?? 200
        guard (200..<300).contains(status) else {
            return .refuse(HandshakeRefusal(status: status, body: response["body"]?.stringValue ?? ""))
        }
        return .accept(accepted)
    }

    /// Reads messages until the connection ends; API Gateway invokes routes concurrently, so a slow
    /// reply does not hold up the next message.
    func serve(_ accepted: AcceptedHandshake, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let connection = LiveConnection(id: accepted.connectionId, outbound: outbound, connectedAt: accepted.connectedAt,
                                        sourceIp: accepted.sourceIp, userAgent: accepted.userAgent)
        await registry.add(connection)
        await withTaskGroup(of: Void.self) { group in
            do {
                try await withGracefulShutdownHandler {
                    for try await message in inbound.messages(maxSize: settings.maxMessageBytes) {
                        await registry.touch(connection.id)
                        let bytes: [UInt8] = switch message {
                        case .text(let text): Array(text.utf8)
                        case .binary(let buffer): Array(buffer.readableBytesView)
                        }
                        group.addTask { await self.route(bytes, on: connection) }
                    }
                } onGracefulShutdown: {
                    Task { await self.close(connection.id, cause: .shutdown) }
                }
            } catch {
                // The frame handler closes with 1009 on its own; record it as the stage's doing.
                if Self.isTooLarge(error) { _ = await registry.beginClose(connection.id, cause: .tooLarge) }
            }
            await group.waitForAll()
        }
    }

    /// Fires `$disconnect` once the connection is gone, with the stage's reason or the client's close code.
    func connectionEnded(_ accepted: AcceptedHandshake, clientClose code: Int?, reason: String?) async {
        guard case .some(let serverCause) = await registry.remove(accepted.connectionId) else { return }
        let clientCause = code.map { DisconnectCause(statusCode: $0, reason: reason ?? "") } ?? .connectionLost
        let connection = LiveConnection(id: accepted.connectionId, outbound: nil, connectedAt: accepted.connectedAt,
                                        sourceIp: accepted.sourceIp, userAgent: accepted.userAgent)
        await disconnect(connection, cause: serverCause ?? clientCause)
    }

    /// swift-websocket reports an oversized message with a package-internal error whose only public
    /// trace is its description (`close(...messageTooLarge)`).
    private static func isTooLarge(_ error: any Error) -> Bool {
        String(describing: error).contains("messageTooLarge")
    }

    private func route(_ body: [UInt8], on connection: LiveConnection) async {
        let selected = routeSelection.routeKey(for: body)
        let route = selected.flatMap { template.webSocketRoute($0) } ?? template.webSocketRoute("$default")
        let requestId = AWSIdentifiers.requestId()
        guard let route, let function = template.functions[route.function] else {
            await send(JSONCoding.string(["message": "Forbidden", "connectionId": connection.id, "requestId": requestId]), to: connection.id)
            return
        }
        let now = Date()
        var context = context(route: route.routeKey, type: .message, connectionId: connection.id, at: now,
                              connectedAt: connection.connectedAt, sourceIp: connection.sourceIp, userAgent: connection.userAgent)
        context.messageId = AWSIdentifiers.requestId()
        context.requestId = requestId
        let text = String(validating: body, as: UTF8.self)
        let event = WebSocketEvent(requestContext: context, body: text ?? Data(body).base64EncodedString(),
                                   isBase64Encoded: text == nil)
        let response = await invoke(function, payload: event.jsonValue.jsonBytes, route: route.routeKey, id: connection.id)
        guard let response else {
            await send(JSONCoding.string(["message": "Internal server error", "connectionId": connection.id, "requestId": requestId]),
                       to: connection.id)
            return
        }
        if route.returnsResponse, let reply = response["body"]?.stringValue {
            await send(reply, to: connection.id)
        }
    }

    private func disconnect(_ connection: LiveConnection, cause: DisconnectCause) async {
        guard let route = template.webSocketRoute("$disconnect"), let function = template.functions[route.function] else { return }
        var context = context(route: "$disconnect", type: .disconnect, connectionId: connection.id, at: Date(),
                              connectedAt: connection.connectedAt, sourceIp: connection.sourceIp, userAgent: connection.userAgent)
        context.disconnectStatusCode = cause.statusCode
        context.disconnectReason = cause.reason
        let event = WebSocketEvent(requestContext: context, headers: ["Host": domainName, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""],
                                   multiValueHeaders: ["Host": [domainName], "x-api-key": [""], "X-Forwarded-For": [""], "x-restapi": [""]])
        _ = await invoke(function, payload: event.jsonValue.jsonBytes, route: "$disconnect", id: connection.id)
    }

    private func context(route: String, type: WebSocketEvent.EventType, connectionId: String, at date: Date, connectedAt: Date,
                         sourceIp: String, userAgent: String?) -> WebSocketEvent.RequestContext {
        let requestId = AWSIdentifiers.requestId()
        return WebSocketEvent.RequestContext(
            routeKey: route, eventType: type, connectionId: connectionId, domainName: domainName, stage: stageName,
            apiId: "local", requestId: requestId, extendedRequestId: requestId,
            requestTime: AWSIdentifiers.requestTime(date), requestTimeEpoch: AWSIdentifiers.epochMillis(date),
            connectedAt: AWSIdentifiers.epochMillis(connectedAt),
            identity: .init(sourceIp: sourceIp, userAgent: userAgent))
    }

    /// Sends a text frame; false when the connection is not open.
    @discardableResult
    func send(_ text: String, to id: String) async -> Bool {
        guard let writer = await registry.writer(id) else { return false }
        do {
            try await writer.write(.text(text))
            return true
        } catch {
            return false
        }
    }

    /// Closes a connection from the stage's side; `$disconnect` follows when its reader ends.
    @discardableResult
    func close(_ id: String, cause: DisconnectCause) async -> Bool {
        guard let writer = await registry.beginClose(id, cause: cause) else { return false }
        try? await writer.close(WebSocketErrorCode(codeNumber: cause.statusCode), reason: cause.reason)
        return true
    }

    /// Closes connections past the idle or hard timeout, checking a few times per shortest timeout.
    func enforceTimeouts() async {
        let interval = max(0.05, min(settings.idleTimeout, settings.hardTimeout) / 4)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval))
            let now = Date()
            for (id, cause) in await registry.expired(idleCutoff: now.addingTimeInterval(-settings.idleTimeout),
                                                      hardCutoff: now.addingTimeInterval(-settings.hardTimeout)) {
                await close(id, cause: cause)
            }
        }
    }

    static func ip(of channel: any Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "127.0.0.1"
    }
}
