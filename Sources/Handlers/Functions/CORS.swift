/// CORS for the public chat endpoint. The allowlist is per widget, so the handler answers CORS
/// itself (the HTTP API declares no CorsConfiguration): headers go on every response to an allowed
/// origin, errors included, so that a widget page can read why it was refused (docs/protocol.md),
/// and on none to a refused origin.
public struct CORS: Sendable {
    public var allowMethods = "POST, OPTIONS"
    public var allowHeaders = "Content-Type, X-Widget-ID"
    public var maxAge = 600

    public init() {}

    /// The headers allowing `origin` to read the response.
    public func headers(for origin: Origin) -> HeaderFields {
        HeaderFields([
            ("Access-Control-Allow-Origin", origin.description),
            ("Access-Control-Allow-Methods", allowMethods),
            ("Access-Control-Allow-Headers", allowHeaders),
            ("Access-Control-Expose-Headers", "Retry-After"),
            ("Access-Control-Max-Age", "\(maxAge)"),
            ("Vary", "Origin"),
        ])
    }
}
