/// Everything a function needs from the outside world.
public struct Dependencies: Sendable {
    public var store: any Store
    public var ai: any AIProvider
    public var poster: any ConnectionPoster
    public var clock: any WallClock
    public var configuration: Configuration
    /// Where each invocation's report goes (metrics and its log lines); nil counts nothing.
    public var telemetry: (any TelemetrySink)?

    public init(store: any Store, ai: any AIProvider, poster: any ConnectionPoster, clock: any WallClock = SystemClock(),
                configuration: Configuration, telemetry: (any TelemetrySink)? = nil) {
        self.store = store
        self.ai = ai
        self.poster = poster
        self.clock = clock
        self.configuration = configuration
        self.telemetry = telemetry
    }
}
