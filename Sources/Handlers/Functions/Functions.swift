/// Builds the function a name refers to, wired to the given dependencies. The local runtime, the
/// `bootstrap` executable and the tests all obtain functions here.
public enum Functions {
    public static func make(_ name: FunctionName, dependencies: Dependencies) -> AnyLambdaFunction {
        switch name {
        case .connect: AnyLambdaFunction(name, ConnectFunction(dependencies: dependencies))
        case .disconnect: AnyLambdaFunction(name, DisconnectFunction(dependencies: dependencies))
        case .sendMessage: AnyLambdaFunction(name, SendMessageFunction(dependencies: dependencies))
        case .chat: AnyLambdaFunction(name, ChatFunction(dependencies: dependencies))
        case .admin: AnyLambdaFunction(name, AdminFunction(dependencies: dependencies))
        }
    }
}
