/// Turns an invocation's payload bytes into a function's typed event. A function names its decoder,
/// so the path that reads its events is stated beside it rather than picked among overloads;
/// this module holds only the contract, and the JSON decoders live with the event types.
public protocol LambdaEventDecoder<Event>: Sendable {
    associatedtype Event
    func decode(_ payload: [UInt8]) throws -> Event
}

/// Turns a function's typed output into the response payload bytes Lambda returns.
public protocol LambdaOutputEncoder<Output>: Sendable {
    associatedtype Output
    func encode(_ output: Output) throws -> [UInt8]
}
