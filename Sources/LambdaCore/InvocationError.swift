/// The failure of a whole invocation, reported to Lambda as an `/error` with `errorType` —
/// as opposed to a request the function refused, which is an ordinary response.
public struct InvocationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errorType: String
    public var errorMessage: String

    public init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }

    public var description: String { "\(errorType): \(errorMessage)" }

    /// The event bytes were not the JSON envelope this function takes.
    public static func malformedEvent(_ detail: String) -> InvocationError {
        InvocationError(errorType: "Runtime.MalformedEvent", errorMessage: detail)
    }
}
