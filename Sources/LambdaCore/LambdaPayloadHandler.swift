/// A Lambda function as the Runtime API sees it: one invocation's payload bytes in, the response
/// payload bytes out. The bottom rung of the ladder: the runtime client (`LambdaRuntime`) and the
/// local emulator drive this; typed functions (events and outputs with their JSON coding) are
/// adapted to it by the code that defines them, so this module knows nothing of any event shape.
///
/// The contract an implementation keeps:
/// - `invoke` is called once per invocation, never concurrently by the Runtime API loop (one
///   invocation at a time per execution environment); the local emulator may call it concurrently,
///   so implementations are `Sendable` and keep no per-invocation state outside the call.
/// - Throwing an `InvocationError` reports that `errorType` and message to Lambda (`/error`); any
///   other error is reported with its type's name as `errorType`. A request the function refuses
///   (a 4xx answer) is not an error: it is a response like any other.
/// - The runtime loop never cancels an invocation: Lambda ends one that overruns
///   `context.deadline` by stopping the execution environment, so work that must finish (a
///   provider call, a store write) checks the deadline itself.
public protocol LambdaPayloadHandler: Sendable {
    func invoke(_ payload: [UInt8], context: InvocationContext) async throws -> [UInt8]
}
