/// Builds the function a name refers to, wired to the given dependencies (its invocations reported to
/// `dependencies.telemetry` when set). The local runtime, the `bootstrap` executable and the tests
/// all obtain functions here.
public enum Functions {
    public static func make(_ name: FunctionName, dependencies: Dependencies) -> AnyLambdaFunction {
        switch name {
        case .connect: AnyLambdaFunction(name, ConnectFunction(dependencies: dependencies), telemetry: dependencies.telemetry)
        case .disconnect: AnyLambdaFunction(name, DisconnectFunction(dependencies: dependencies), telemetry: dependencies.telemetry)
        case .sendMessage: AnyLambdaFunction(name, SendMessageFunction(dependencies: dependencies), telemetry: dependencies.telemetry)
        case .chat: AnyLambdaFunction(name, ChatFunction(dependencies: dependencies), telemetry: dependencies.telemetry)
        case .admin: AnyLambdaFunction(name, AdminFunction(dependencies: dependencies), telemetry: dependencies.telemetry)
        }
    }
}
