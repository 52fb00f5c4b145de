import Foundation
import Handlers
import HTTPTypes
import Hummingbird
import WSCore
import NIOCore
import NIOSSL
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
    /// How many invocations one WebSocket connection may have in flight; frames beyond are refused
    /// with API Gateway's throttling frame. API Gateway has no such per-connection bound, but its
    /// account-wide throttling stops a single client long before it could exhaust a laptop.
    var maxInvocationsPerConnection = 10
    /// How long a new connection has to send its first complete request head.
    var headerReadTimeout: TimeInterval = 10
    /// How long an HTTP keep-alive connection may sit idle between requests (or mid-body).
    var httpIdleTimeout: TimeInterval = 60
    /// The largest request head accepted (request line and headers); above it the answer is 431.
    /// API Gateway's own limit is 10 KB.
    var maxHeaderBytes = 16 * 1024
    /// How many connections (HTTP and WebSocket) are open at once; more wait in the listen backlog.
    var maxConnections = 1024
    /// Host names `/_dev/*` and `@connections` answer besides localhost, 127.0.0.1, [::1] and `host`.
    var allowedHosts: [String] = []
    /// TLS on the same port (`TLSSniffer`), or nil for plain text only.
    var tls: StageTLS?
    /// The keys JWT authorizers check tokens with (`--jwks`).
    var jwks: JSONWebKeySet?
}

/// The stage's TLS: the context serving the local authority's certificate, and that authority's
/// certificate file, which the start-up lines tell clients to trust.
struct StageTLS: Sendable {
    var context: NIOSSLContext
    var caCertificate: String

    init(_ authority: LocalCertificateAuthority) throws {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(authority.serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: authority.serverKey, format: .pem)))
        context = try NIOSSLContext(configuration: configuration)
        caCertificate = authority.caCertificate
    }
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
    /// What `GET /metrics` serves: the in-process functions' counts.
    let metrics: StageMetrics
    private let routeSelection: RouteSelection
    /// Invocation records for the dev console's live log.
    let feed = InvocationFeed()
    /// What `GET /_dev/openapi.yaml` serves.
    let openAPI: OpenAPIDocument
    /// Who may use the console and `@connections`.
    let accessPolicy: LocalAccessPolicy
    /// The greeting of an active widget, for the dev console to show before the first message.
    let widgetGreeting: @Sendable (String) async -> String?
    /// `host:port` as events report it in `domainName`, and the port: the port actually bound once
    /// the server runs (it differs from the setting when that is 0). The domain is kept as the
    /// string every event carries rather than formatted per event.
    private let address: Mutex<(domain: String, port: Int)>

    /// `registry` is given when in-process functions post replies straight to it (`ReplyPath.inProcess`).
    init(template: Template, invoker: any FunctionInvoker, settings: StageSettings, recorder: EventRecorder?,
         registry: ConnectionRegistry = ConnectionRegistry(), metrics: StageMetrics? = nil, openAPI: OpenAPIDocument = .absent,
         widgetGreeting: @escaping @Sendable (String) async -> String? = { _ in nil }) {
        self.template = template
        self.metrics = metrics ?? StageMetrics(functions: template.functions.values.compactMap(\.builtIn))
        self.openAPI = openAPI
        self.widgetGreeting = widgetGreeting
        self.registry = registry
        self.invoker = invoker
        self.settings = settings
        self.recorder = recorder
        routeSelection = RouteSelection(expression: template.routeSelectionExpression)
        accessPolicy = LocalAccessPolicy(bindHost: settings.host, allowedHosts: settings.allowedHosts)
        address = Mutex((domain: "\(settings.host):\(settings.port)", port: settings.port))
    }

    var stageName: String { template.stageName }

    /// What a `@connections` POST does to this stage's connections.
    var posting: ConnectionPosting { ConnectionPosting(registry: registry, maxMessageBytes: settings.maxMessageBytes) }

    /// The host and port clients reach the stage at, as events report it in `domainName`.
    var domainName: String { address.withLock { $0.domain } }

    /// The port the stage listens on.
    var boundPort: Int { address.withLock { $0.port } }

    /// Records the port the server bound, for `domainName`.
    func bound(port: Int) {
        address.withLock { $0 = (domain: "\(settings.host):\(port)", port: port) }
    }

    // MARK: Invocation

    /// Invokes `function` with `payload`, records and logs it; nil when the invocation failed.
    func invoke(_ function: Template.Function, payload: [UInt8], route: String, id: String,
                lambdaRequestId: String = AWSIdentifiers.lambdaRequestId()) async -> JSONValue? {
        try? await invocation(function, payload: payload, route: route, id: id, lambdaRequestId: lambdaRequestId).get()
    }

    /// As `invoke`, with the function's error when it failed: a REST API authorizer's
    /// `Unauthorized` is API Gateway's 401, any other failure its 500.
    func invocation(_ function: Template.Function, payload: [UInt8], route: String, id: String,
                    lambdaRequestId: String = AWSIdentifiers.lambdaRequestId()) async -> Result<JSONValue, InvocationError> {
        let started = ContinuousClock.now
        var status = "error"
        var responseBytes: [UInt8]?
        var errorType: String?
        defer {
            recorder?.record(payload, function: function.displayName, expectation: RecordedExpectation.document(
                response: responseBytes.flatMap { try? JSONValue(parsing: $0) }, errorType: errorType))
            let record = InvocationRecord(function: function.displayName, route: route, id: id, status: status,
                                          milliseconds: Milliseconds.since(started),
                                          event: ConsoleBody.kept(payload), response: responseBytes.map(ConsoleBody.kept))
            StageLog.write(record.line)
            feed.publish(record)
        }
        do {
            let output = try await invoker.invoke(function, payload: payload, requestId: lambdaRequestId)
            responseBytes = output
            let response = try JSONValue(parsing: output)
            status = response["statusCode"]?.intValue.map(String.init) ?? "200"
            return .success(response)
        } catch let error as InvocationError {
            status = "error \(error.errorType)"
            errorType = error.errorType
            StageLog.write("  \(error.errorType): \(error.errorMessage)")
            return .failure(error)
        } catch {
            status = "error"
            errorType = String(describing: type(of: error))
            StageLog.write("  invocation failed: \(error)")
            return .failure(InvocationError(errorType: errorType ?? "Error", errorMessage: "\(error)"))
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
        let userAgent = HeaderFields(headers)["user-agent"]
        var query: [String: String] = [:]
        var multiValueQuery: [String: [String]] = [:]
        for item in components.queryItems ?? [] {
            query[item.name] = item.value ?? ""
            multiValueQuery[item.name, default: []].append(item.value ?? "")
        }
        var accepted = AcceptedHandshake(connectionId: connectionId, connectedAt: now, sourceIp: request.sourceIp, userAgent: userAgent)
        guard let route = template.webSocketRoute("$connect"), let function = template.functions[route.function] else {
            return .accept(accepted)
        }
        var event = WebSocketEvent(
            requestContext: context(route: "$connect", type: .connect, connectionId: connectionId, at: now, connectedAt: now,
                                    sourceIp: request.sourceIp, userAgent: userAgent),
            headers: headers, multiValueHeaders: multiValueHeaders,
            queryStringParameters: query.isEmpty ? nil : query,
            multiValueQueryStringParameters: multiValueQuery.isEmpty ? nil : multiValueQuery)
        if let authorizer = route.authorizer.flatMap({ template.authorizers[$0] }) {
            switch await authorize(authorizer, request: JSONValue(event: event.jsonBytes), headers: headers, query: query,
                                   resourceArn: executeAPIArn(stage: stageName, route: "$connect"), id: connectionId) {
            case .refuse(let status, let body):
                return .refuse(HandshakeRefusal(status: status, body: body))
            case .allow(let context, let principalId):
                var authorizerContext = context
                if let principalId { authorizerContext["principalId"] = .string(principalId) }
                accepted.authorizer = authorizerContext
                event.requestContext.authorizer = authorizerContext
            }
        }
        guard let response = await invoke(function, payload: event.jsonBytes, route: "$connect", id: connectionId) else {
            return .refuse(HandshakeRefusal(status: 500, body: #"{"message":"Internal server error"}"#))
        }
        let status = response["statusCode"]?.intValue ?? 200
        guard (200..<300).contains(status) else {
            return .refuse(HandshakeRefusal(status: status, body: response["body"]?.stringValue ?? ""))
        }
        return .accept(accepted)
    }

    /// Reads messages until the connection ends. API Gateway invokes routes concurrently, so a slow
    /// reply does not hold up the next message; but one connection has at most
    /// `settings.maxInvocationsPerConnection` invocations in flight. A frame beyond that is refused
    /// with the frame API Gateway sends a throttled client, `{"message": "Too Many Requests", ...}`,
    /// and the refusal is written before the next frame is read: a client that floods without
    /// reading its socket is held to the pace of its own reading instead of starting unbounded work.
    /// Finished invocations are discarded at once (a discarding task group), so a long-lived
    /// connection holds nothing per message it has sent.
    func serve(_ accepted: AcceptedHandshake, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let connection = LiveConnection(id: accepted.connectionId, outbound: outbound, connectedAt: accepted.connectedAt,
                                        sourceIp: accepted.sourceIp, userAgent: accepted.userAgent, authorizer: accepted.authorizer)
        registry.add(connection)
        // Messages are read one at a time, so the loop can own the generator their ids come from.
        var idGenerator = SplitMix64()
        let inFlight = InvocationSlots(limit: settings.maxInvocationsPerConnection)
        var throttled = 0
        await withDiscardingTaskGroup { group in
            do {
                try await withGracefulShutdownHandler {
                    var messages = MessageAssembler(maxBytes: settings.maxMessageBytes)
                    for try await frame in inbound {
                        guard let message = try messages.add(frame) else { continue }
                        registry.touch(connection.id)
                        let ids = MessageIds(drawingFrom: &idGenerator)
                        guard inFlight.acquire() else {
                            throttled += 1
                            await send(JSONCoding.string(["message": "Too Many Requests", "connectionId": connection.id,
                                                          "requestId": ids.requestId]), to: connection.id)
                            continue
                        }
                        group.addTask {
                            await self.route(message, on: connection, ids: ids)
                            inFlight.release()
                        }
                    }
                } onGracefulShutdown: {
                    Task { await self.close(connection.id, cause: .shutdown) }
                }
            } catch is MessageAssembler.MessageTooLarge {
                _ = registry.beginClose(connection.id, cause: .tooLarge)
                try? await outbound.close(.messageTooLarge, reason: "Message too big")
            } catch {
                // Malformed frames or a failed read: serving ends and the frame handler closes the connection.
            }
        }
        if throttled > 0 {
            StageLog.write("throttled  \(connection.id)  \(throttled) frames refused over \(inFlight.limit) invocations in flight")
        }
    }

    /// Fires `$disconnect` once the connection is gone, with the stage's reason or the client's close code.
    func connectionEnded(_ accepted: AcceptedHandshake, clientClose code: Int?, reason: String?) async {
        guard case .some(let serverCause) = registry.remove(accepted.connectionId) else { return }
        let clientCause = code.map { DisconnectCause(statusCode: $0, reason: reason ?? "") } ?? .connectionLost
        let connection = LiveConnection(id: accepted.connectionId, outbound: nil, connectedAt: accepted.connectedAt,
                                        sourceIp: accepted.sourceIp, userAgent: accepted.userAgent, authorizer: accepted.authorizer)
        await disconnect(connection, cause: serverCause ?? clientCause)
    }

    /// A text frame's body is the string `MessageAssembler` validated; a binary frame's is its
    /// bytes as text when they are UTF-8, base64 otherwise, as API Gateway delivers them.
    private func route(_ message: WebSocketMessage, on connection: LiveConnection, ids: MessageIds) async {
        let body: String, isBase64Encoded: Bool, selected: String?
        switch message {
        case .text(let text):
            (body, isBase64Encoded, selected) = (text, false, routeSelection.routeKey(for: text))
        case .binary(let buffer):
            let bytes = Array(buffer.readableBytesView)
            let text = String(validating: bytes, as: UTF8.self)
            (body, isBase64Encoded, selected) = (text ?? Data(bytes).base64EncodedString(), text == nil, routeSelection.routeKey(for: bytes))
        }
        let route = selected.flatMap { template.webSocketRoute($0) } ?? template.webSocketRoute("$default")
        let requestId = ids.requestId
        guard let route, let function = template.functions[route.function] else {
            await send(JSONCoding.string(["message": "Forbidden", "connectionId": connection.id, "requestId": requestId]), to: connection.id)
            return
        }
        var context = context(route: route.routeKey, type: .message, connectionId: connection.id, requestId: requestId, at: Date(),
                              connectedAt: connection.connectedAt, sourceIp: connection.sourceIp, userAgent: connection.userAgent)
        context.messageId = ids.messageId
        context.authorizer = connection.authorizer
        let event = WebSocketEvent(requestContext: context, body: body, isBase64Encoded: isBase64Encoded)
        let response = await invoke(function, payload: event.jsonBytes, route: route.routeKey, id: connection.id,
                                    lambdaRequestId: ids.lambdaRequestId)
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
        context.authorizer = connection.authorizer
        let event = WebSocketEvent(requestContext: context, headers: ["Host": domainName, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""],
                                   multiValueHeaders: ["Host": [domainName], "x-api-key": [""], "X-Forwarded-For": [""], "x-restapi": [""]])
        _ = await invoke(function, payload: event.jsonBytes, route: "$disconnect", id: connection.id)
    }

    private func context(route: String, type: WebSocketEvent.EventType, connectionId: String,
                         requestId: String = AWSIdentifiers.requestId(), at date: Date, connectedAt: Date,
                         sourceIp: String, userAgent: String?) -> WebSocketEvent.RequestContext {
        Self.webSocketContext(route: route, type: type, connectionId: connectionId, requestId: requestId, at: date, connectedAt: connectedAt,
                              sourceIp: sourceIp, userAgent: userAgent, domainName: domainName, stage: stageName)
    }

    /// A WebSocket event's `requestContext` as API Gateway fills it (the stage's, or `local-runtime event`'s).
    static func webSocketContext(route: String, type: WebSocketEvent.EventType, connectionId: String, requestId: String, at date: Date,
                                 connectedAt: Date, sourceIp: String, userAgent: String?, domainName: String,
                                 stage: String) -> WebSocketEvent.RequestContext {
        WebSocketEvent.RequestContext(
            routeKey: route, eventType: type, connectionId: connectionId, domainName: domainName, stage: stage,
            apiId: "local", requestId: requestId, extendedRequestId: requestId,
            requestTime: AWSIdentifiers.requestTime(date), requestTimeEpoch: AWSIdentifiers.epochMillis(date),
            connectedAt: AWSIdentifiers.epochMillis(connectedAt),
            identity: .init(sourceIp: sourceIp, userAgent: userAgent))
    }

    /// Sends a text frame; false when the connection is not open.
    @discardableResult
    func send(_ text: String, to id: String) async -> Bool {
        guard let writer = registry.writer(id) else { return false }
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
        guard let writer = registry.beginClose(id, cause: cause) else { return false }
        try? await writer.close(WebSocketErrorCode(codeNumber: cause.statusCode), reason: cause.reason)
        return true
    }

    /// Closes connections past the idle or hard timeout, checking a few times per shortest timeout.
    func enforceTimeouts() async {
        let interval = max(0.05, min(settings.idleTimeout, settings.hardTimeout) / 4)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval))
            let now = Date()
            for (id, cause) in registry.expired(idleCutoff: now.addingTimeInterval(-settings.idleTimeout),
                                                      hardCutoff: now.addingTimeInterval(-settings.hardTimeout)) {
                await close(id, cause: cause)
            }
        }
    }

    static func ip(of channel: any Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "127.0.0.1"
    }
}

/// One connection's budget of invocations in flight. Only the connection's read loop acquires and
/// invocations only release, so a load-then-add cannot overshoot the limit.
final class InvocationSlots: Sendable {
    let limit: Int
    private let inUse = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot; false when all `limit` are in use.
    func acquire() -> Bool {
        guard inUse.load(ordering: .acquiring) < limit else { return false }
        inUse.wrappingAdd(1, ordering: .acquiringAndReleasing)
        return true
    }

    func release() {
        inUse.wrappingSubtract(1, ordering: .releasing)
    }
}
