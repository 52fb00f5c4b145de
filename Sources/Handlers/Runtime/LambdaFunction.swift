#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
// The functions here are written against the Lambda contract; whoever uses them gets the contract
// with them, as swift-aws-lambda-runtime's AWSLambdaRuntime re-exports its core module.
@_exported import LambdaCore

/// A Lambda function: a pure mapping from a decoded event to a response, with every piece of I/O
/// reached through the dependencies it was built with.
///
/// A function names the codecs for its event and output (`eventDecoder`, `outputEncoder`): the one
/// path that reads its payload and writes its response on every invocation.
public protocol LambdaFunction: Sendable {
    associatedtype Event: Sendable
    associatedtype Output: Sendable
    associatedtype EventDecoder: LambdaEventDecoder where EventDecoder.Event == Event
    associatedtype OutputEncoder: LambdaOutputEncoder where OutputEncoder.Output == Output

    static var eventDecoder: EventDecoder { get }
    static var outputEncoder: OutputEncoder { get }

    func handle(_ event: Event, context: InvocationContext) async throws -> Output
}

extension LambdaFunction {
    /// Reads an invocation payload as the event, with `eventDecoder`.
    public static func decodeEvent(_ payload: [UInt8]) throws -> Event {
        try eventDecoder.decode(payload)
    }

    /// Writes a response as the payload Lambda returns, with `outputEncoder`.
    public static func encodeOutput(_ output: Output) throws -> [UInt8] {
        try outputEncoder.encode(output)
    }
}

/// Reads an event straight from the bytes with `JSONReader`; a document the reader declines is
/// decoded through the `JSONValue` tree, which gives the same value or a `JSONValueDecodingError`
/// naming the field. The envelopes' path: no `JSONDecoder`, and no tree for the events the
/// functions accept, which are decoded on every invocation.
public struct JSONReaderEventDecoder<Event: JSONBytesDecodable>: LambdaEventDecoder {
    public init() {}

    public func decode(_ payload: [UInt8]) throws -> Event {
        try Event(readingJSON: payload)
    }
}

/// Writes an output with its direct byte writer: the bytes `JSONCoding.encoder` writes for it,
/// without building a tree of dictionaries first.
public struct JSONBytesOutputEncoder<Output: JSONBytesEncodable>: LambdaOutputEncoder {
    public init() {}

    public func encode(_ output: Output) throws -> [UInt8] {
        output.jsonBytes
    }
}

/// A function seen as bytes in, bytes out: the shape the Runtime API, `invoke`, `replay` and the
/// stage all drive, whichever function sits behind it.
public struct AnyLambdaFunction: LambdaPayloadHandler {
    public let name: FunctionName
    private let invokeBytes: @Sendable ([UInt8], InvocationContext) async throws -> [UInt8]

    /// With a `telemetry` sink, each invocation runs with an `InvocationTelemetry` of its own and
    /// ends by publishing its report to the sink once, whether it answered or failed; without one,
    /// nothing is counted or measured.
    public init<F: LambdaFunction>(_ name: FunctionName, _ function: F, telemetry: (any TelemetrySink)? = nil) {
        self.name = name
        let run: @Sendable ([UInt8], InvocationContext) async throws -> F.Output = { payload, context in
            let event: F.Event
            do {
                event = try F.decodeEvent(payload)
            } catch {
                throw InvocationError.malformedEvent("\(name.rawValue) could not decode the event: \(DecodingErrorSummary(error))")
            }
            return try await function.handle(event, context: context)
        }
        guard let telemetry else {
            invokeBytes = { payload, context in try F.encodeOutput(try await run(payload, context)) }
            return
        }
        invokeBytes = { payload, context in
            let observed = InvocationTelemetry()
            let start = ContinuousClock.now
            do {
                let output = try await InvocationTelemetry.$current.withValue(observed) { try await run(payload, context) }
                telemetry.publish(observed.report(function: name, requestId: context.requestId, duration: start.duration(to: .now),
                                                  statusCode: (output as? any StatusCodeReporting)?.statusCode, errorType: nil))
                return try F.encodeOutput(output)
            } catch {
                let errorType = (error as? InvocationError)?.errorType ?? String(describing: type(of: error))
                telemetry.publish(observed.report(function: name, requestId: context.requestId, duration: start.duration(to: .now),
                                                  statusCode: nil, errorType: errorType))
                throw error
            }
        }
    }

    public func invoke(_ payload: [UInt8], context: InvocationContext) async throws -> [UInt8] {
        try await invokeBytes(payload, context)
    }
}

/// The functions this package provides; the raw values are the names in template.json's `Handler`,
/// `_HANDLER`, and `local-runtime invoke`.
public enum FunctionName: String, CaseIterable, Sendable, Codable {
    case connect
    case disconnect
    case sendMessage
    case chat
    case admin
}

/// JSON coders configured once: stable key order keeps recorded fixtures and diffs readable.
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// `value` as JSON text, written from its hand-written `jsonValue`: the path of every body and
    /// event built on a request's way (no `JSONEncoder`).
    public static func string(_ value: some JSONValueEncodable) -> String {
        value.jsonValue.jsonString
    }

    /// `value` as JSON text through `encoder`, for types with no hand-written encoding (admin
    /// configuration bodies, console records, tokens' claims).
    public static func string(encoding value: some Encodable) -> String {
        // Encoding the package's own value types cannot fail; an empty object keeps the contract if it ever did.
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A one-line description of a decoding failure that names the offending field, worded alike
/// whether JSONDecoder or a `JSONValueDecodable` conformance refused the value.
struct DecodingErrorSummary: CustomStringConvertible {
    let error: any Error
    init(_ error: any Error) { self.error = error }

    var description: String {
        switch error {
        case let error as JSONValueDecodingError: error.description
        case let error as JSONShapeError: error.description
        case let error as DecodingError: JSONShapeError(error)?.description ?? "not valid JSON"
        default: "not valid JSON"
        }
    }
}
