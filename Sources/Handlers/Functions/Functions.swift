/// A function of this package: built from the dependencies every piece of its I/O goes through.
public protocol BackendFunction: LambdaFunction {
    init(dependencies: Dependencies)
}

/// A WebSocket route's function (`$connect`, `$disconnect`, `sendMessage`): API Gateway's WebSocket
/// event in, an integration response out, both through the byte codecs, since every message on every
/// connection decodes one.
public protocol WebSocketRouteFunction: BackendFunction where Event == WebSocketEvent, Output == WebSocketResponse {}

extension WebSocketRouteFunction {
    public static var eventDecoder: JSONReaderEventDecoder<WebSocketEvent> { JSONReaderEventDecoder() }
    public static var outputEncoder: JSONBytesOutputEncoder<WebSocketResponse> { JSONBytesOutputEncoder() }
}

/// An HTTP route's function (`chat`, `admin`): an HTTP API (payload 2.0) or REST API (1.0) request
/// in, a proxy response in the same payload format out, through the byte codecs.
public protocol HTTPRouteFunction: BackendFunction where Event == HTTPRouteRequest, Output == HTTPRouteResponse {}

extension HTTPRouteFunction {
    public static var eventDecoder: JSONReaderEventDecoder<HTTPRouteRequest> { JSONReaderEventDecoder() }
    public static var outputEncoder: JSONBytesOutputEncoder<HTTPRouteResponse> { JSONBytesOutputEncoder() }
}

/// Builds the function a name refers to, wired to the given dependencies (its invocations reported to
/// `dependencies.telemetry` when set). The local runtime, the `bootstrap` executable and the tests
/// all obtain functions here.
public enum Functions {
    public static func make(_ name: FunctionName, dependencies: Dependencies) -> AnyLambdaFunction {
        let function: any BackendFunction.Type = switch name {
        case .connect: ConnectFunction.self
        case .disconnect: DisconnectFunction.self
        case .sendMessage: SendMessageFunction.self
        case .chat: ChatFunction.self
        case .admin: AdminFunction.self
        }
        return make(function, name, dependencies)
    }

    private static func make<F: BackendFunction>(_ function: F.Type, _ name: FunctionName, _ dependencies: Dependencies) -> AnyLambdaFunction {
        AnyLambdaFunction(name, F(dependencies: dependencies), telemetry: dependencies.telemetry)
    }
}
