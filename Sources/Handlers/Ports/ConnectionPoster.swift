/// Thrown by a poster when the connection no longer exists (API Gateway's 410 GoneException).
public struct ConnectionGoneError: Error, Sendable, Equatable {
    public var connectionId: String
    public init(connectionId: String) { self.connectionId = connectionId }
}

/// Sends data to a WebSocket client through the `@connections` management API
/// (`HTTPConnectionPoster` in AWS and on the local stage; a recording poster in tests).
///
/// What an implementation must guarantee:
/// - **Ordering.** Posts to one connection arrive in the order their calls completed: a caller
///   awaits each post before the next (deltas, then `done`), and an implementation must not
///   reorder or batch them across calls.
/// - **Errors.** A connection that no longer exists (API Gateway's 410 `GoneException`) is reported
///   as `ConnectionGoneError`, which callers treat as the end of the turn (the connection record
///   is removed); any other failure is thrown as is and fails the invocation.
/// - **Cancellation.** A cancelled task may stop a post; whether its frame was delivered is then
///   unknown, as with any failed post.
public protocol ConnectionPoster: Sendable {
    /// Posts one text frame, `data`, to `connectionId` at the management `endpoint`
    /// (`https://{domain}/{stage}`), returning once the API accepted it (2xx).
    func post(_ data: [UInt8], to connectionId: String, endpoint: String) async throws
}
