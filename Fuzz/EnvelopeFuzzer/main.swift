// A libFuzzer target over the API Gateway envelope decoders and the JSON parser and reader of
// Sources/Handlers/Envelopes, compiled together with those sources into one module (scripts/fuzz),
// so that it reaches their internals. Besides crashes and AddressSanitizer's findings, it checks
// what must hold for every input:
// - JSON text the parser accepts serialises back to text that parses to the same value;
// - where the fast byte reader (`JSONReader`) accepts an input, the tree decoder (`JSONValue` and
//   `init(json:)`) accepts it too and decodes the same value: the reader is an optimisation of
//   the tree, never a different language.
// A broken property stops the run with `fatalError`, which libFuzzer reports as a crash with the input.

/// The reader's value of `bytes` as `T` must be the tree's.
private func readerAgreesWithTree<T: JSONReadable & JSONValueDecodable & Equatable>(_: T.Type, _ bytes: [UInt8]) {
    guard let read = bytes.withUnsafeBufferPointer({ JSONReader.read(T.self, from: $0) }) else { return }
    let tree: T
    do {
        tree = try T(jsonBytes: bytes)
    } catch {
        fatalError("\(T.self): the reader accepted an input the tree decoder refuses (\(error))")
    }
    if read != tree { fatalError("\(T.self): the reader and the tree decoder disagree") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))

    if let value = try? JSONValue(parsing: bytes) {
        guard let again = try? JSONValue(parsing: value.jsonBytes) else { fatalError("JSONValue: its own output does not parse") }
        if again != value { fatalError("JSONValue: a round trip through text changed the value") }
        if let read = bytes.withUnsafeBufferPointer({ JSONReader.read(JSONValue.self, from: $0) }), read != value {
            fatalError("JSONValue: the reader and the parser disagree")
        }
    }

    readerAgreesWithTree(HTTPRouteRequest.self, bytes)
    readerAgreesWithTree(APIGatewayV2Request.self, bytes)
    readerAgreesWithTree(WebSocketEvent.self, bytes)

    // Whatever decodes, its body is read as a handler would read it (base64 included).
    if let request = try? HTTPRouteRequest(readingJSON: bytes) { _ = try? request.bodyBytes(limit: 128 * 1024) }
    if let event = try? WebSocketEvent(readingJSON: bytes) { _ = try? event.bodyBytes(limit: 128 * 1024) }
    _ = try? APIGatewayRequest(jsonBytes: bytes)
    return 0
}
