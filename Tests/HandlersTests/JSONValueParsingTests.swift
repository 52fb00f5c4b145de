import FoundationEssentials
import Handlers
import PropertyBased
import Testing

/// The hand-written JSON parser and writer against the JSONDecoder/JSONEncoder they replace: same
/// values, same bytes, same refusals.
@Suite("JSONValue parsing and writing")
struct JSONValueParsingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var eventFiles: [URL] {
        let events = repository.appendingPathComponent("events")
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: events.path)) ?? []
        return directories.sorted().flatMap { directory in
            let folder = events.appendingPathComponent(directory)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return names.filter { $0.hasSuffix(".json") }.sorted().map { folder.appendingPathComponent($0) }
        }
    }

    static func decoded(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    static func encoded(_ value: JSONValue) throws -> [UInt8] {
        Array(try JSONCoding.encoder.encode(value))
    }

    static func parsed(_ text: String) -> JSONValue? {
        try? JSONValue(parsing: text)
    }

    @Test("every fixture under events/ parses to what JSONDecoder decodes")
    func fixturesParseLikeJSONDecoder() throws {
        let files = Self.eventFiles
        #expect(files.count > 100)
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            let expected = try #require(Self.decoded(bytes), "\(file.lastPathComponent)")
            #expect(try JSONValue(parsing: bytes) == expected, "\(file.lastPathComponent)")
        }
    }

    @Test("every fixture under events/ is written byte for byte as JSONEncoder writes it")
    func fixturesWriteLikeJSONEncoder() throws {
        for file in Self.eventFiles {
            let value = try JSONValue(parsing: Array(try Data(contentsOf: file)))
            #expect(value.jsonBytes == (try Self.encoded(value)), "\(file.lastPathComponent)")
        }
    }

    @Test("generated values are written as JSONEncoder writes them and parse back as JSONDecoder reads them")
    func generatedValuesRoundTripLikeFoundation() async {
        await propertyCheck(input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var random = Xoshiro(propertySeed: seed)
            let value = random.jsonValue(depth: 0)
            let foundation = try Self.encoded(value)
            #expect(value.jsonBytes == foundation)
            #expect(try JSONValue(parsing: foundation) == Self.decoded(foundation))
        }
    }

    @Test("of mutated documents, none is accepted that JSONDecoder refuses, and both read the same value")
    func mutatedDocumentsMatchJSONDecoder() async {
        await propertyCheck(input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var random = Xoshiro(propertySeed: seed)
            var bytes = try Self.encoded(random.jsonValue(depth: 0))
            for _ in 0...random.below(3) { random.mutate(&bytes) }
            // The parser may be stricter (see the tests of trailing commas, NUL bytes and shadowed keys).
            if let parsed = try? JSONValue(parsing: bytes) {
                #expect(parsed == Self.decoded(bytes), "\(bytes)")
            }
        }
    }

    @Test("a leading byte order mark and surrounding whitespace are allowed")
    func byteOrderMarkAndWhitespaceAreAllowed() throws {
        #expect(try JSONValue(parsing: [0xEF, 0xBB, 0xBF] + Array(" \t\r\n[1] \n".utf8)) == .array([.number(1)]))
    }

    @Test("top-level scalars are values", arguments: [("\"a\"", JSONValue.string("a")), ("-0.5", .number(-0.5)), ("true", .bool(true)), ("null", .null)])
    func topLevelScalarsParse(text: String, expected: JSONValue) {
        #expect(Self.parsed(text) == expected)
    }

    @Test("escapes decode, including surrogate pairs", arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"), (#""\u00e9\u00E9""#, "éé"), (#""\ud83d\ude00""#, "😀"), (#""\u0000""#, "\u{0}"),
    ])
    func escapesDecode(text: String, expected: String) {
        #expect(Self.parsed(text) == .string(expected))
    }

    @Test("of repeated keys the first wins, as in JSONDecoder")
    func firstRepeatedKeyWins() {
        #expect(Self.parsed(#"{"a":1,"a":2}"#) == .object(["a": .number(1)]))
    }

    @Test("malformed text is refused", arguments: [
        "", " ", "[1 2]", "{\"a\" 1}", "{a:1}", "[1] x", "[1]]", "nul", "tru", "True", "'a'", "[", "{\"a\":",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
    ])
    func malformedTextIsRefused(text: String) {
        #expect(Self.parsed(text) == nil)
        #expect(Self.decoded(Array(text.utf8)) == nil)
    }

    @Test("trailing commas are refused, although JSONDecoder accepts them: RFC 8259 has none", arguments: ["[1,]", "{\"a\":1,}", "[1,\n]"])
    func trailingCommasAreRefused(text: String) {
        #expect(Self.parsed(text) == nil)
        #expect(Self.decoded(Array(text.utf8)) != nil)
    }

    @Test("NUL bytes between tokens are refused, although JSONDecoder skips some", arguments: [[0x00, 0x32], [0x39, 0x00]] as [[UInt8]])
    func nulBetweenTokensIsRefused(bytes: [UInt8]) {
        #expect((try? JSONValue(parsing: bytes)) == nil)
        #expect(Self.decoded(bytes) != nil)
    }

    @Test("a value shadowed by an earlier repeated key is still validated, although JSONDecoder never reads it")
    func shadowedValuesAreValidated() {
        let text = #"{"a":1,"a":1.5E3e+1}"#
        #expect(Self.parsed(text) == nil)
        #expect(Self.decoded(Array(text.utf8)) == .object(["a": .number(1)]))
    }

    @Test("numbers outside RFC 8259's grammar are refused", arguments: ["01", "-01", "00", "+1", ".5", "1.", "1e", "1e+", "-", "0x10", "NaN", "Infinity", "1_000"])
    func nonGrammarNumbersAreRefused(text: String) {
        #expect(Self.parsed(text) == nil)
    }

    @Test("numbers a Double cannot hold are refused, as JSONDecoder refuses them", arguments: ["1e400", "-1e400", "1e-400", "1.8e308"])
    func unrepresentableNumbersAreRefused(text: String) {
        #expect(Self.parsed(text) == nil)
        #expect(Self.decoded(Array(text.utf8)) == nil)
    }

    @Test("long and subnormal numbers round as JSONDecoder rounds them", arguments: [
        "123456789012345678901234567890", "9007199254740993", "0.1", "5e-324", "2.4703282292062328e-324", "1.7976931348623157e308", "0e-400",
    ])
    func numbersRoundLikeJSONDecoder(text: String) {
        #expect(Self.parsed(text) != nil)
        #expect(Self.parsed(text) == Self.decoded(Array(text.utf8)))
    }

    @Test("unpaired surrogate escapes are refused", arguments: [#""\ud800""#, #""\ud800x""#, #""\udc00""#, #""\ud800\ud800""#, #""\ud800\u0041""#])
    func unpairedSurrogatesAreRefused(text: String) {
        #expect(Self.parsed(text) == nil)
        #expect(Self.decoded(Array(text.utf8)) == nil)
    }

    @Test("invalid UTF-8 is refused", arguments: [[0xFF], [0xC0, 0xAF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3]] as [[UInt8]])
    func invalidUTF8IsRefused(sequence: [UInt8]) {
        let inString = [UInt8(ascii: "\"")] + sequence + [UInt8(ascii: "\"")]
        let inKey = Array("{\"".utf8) + sequence + Array("\":1}".utf8)
        let afterEscape = Array("\"\\n".utf8) + sequence + [UInt8(ascii: "\"")]
        for bytes in [inString, inKey, afterEscape] {
            #expect((try? JSONValue(parsing: bytes)) == nil, "\(bytes)")
        }
    }

    @Test("control characters must be escaped inside strings")
    func rawControlCharactersAreRefused() {
        for byte in UInt8(0)..<0x20 {
            #expect((try? JSONValue(parsing: [UInt8(ascii: "\""), byte, UInt8(ascii: "\"")])) == nil, "\(byte)")
        }
        #expect((try? JSONValue(parsing: [UInt8(ascii: "\""), 0x7F, UInt8(ascii: "\"")])) == .string("\u{7F}"))
    }

    @Test("a quote, backslash, control or non-ASCII byte ends a plain run at any offset")
    func specialByteAtEveryOffset() throws {
        // Runs longer than the parser's eight-byte words, with the byte at every position of a word:
        // (the bytes written in the string, the text they stand for, or nil when they are refused).
        let specials: [([UInt8], String?)] = [
            (Array(#"\""#.utf8), "\""), (Array(#"\\"#.utf8), "\\"), (Array(#"\n"#.utf8), "\n"), ([0x0A], nil), ([0x1F], nil),
            (Array("é".utf8), "é"), (Array("😀".utf8), "😀"), ([0xFF], nil), ([0x7F], "\u{7F}"), ([0x20], " "), ([0x22], nil),
        ]
        for length in 0..<20 {
            for offset in 0...length {
                for (special, text) in specials {
                    var bytes = Array(repeating: UInt8(ascii: "a"), count: length)
                    bytes.insert(contentsOf: special, at: offset)
                    let expected = text.map { JSONValue.string(String(repeating: "a", count: offset) + $0 + String(repeating: "a", count: length - offset)) }
                    let document = [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
                    #expect((try? JSONValue(parsing: document)) == expected, "\(length) \(offset) \(special)")
                }
            }
            let unterminated = [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "b"), count: length)
            #expect((try? JSONValue(parsing: unterminated)) == nil)
        }
    }

    @Test("a JSON document carried as a string, escapes between runs of every length, parses back whole")
    func escapedDocumentInAString() throws {
        for run in 0..<20 {
            let text = (0..<5).map { index in String(repeating: "x", count: run) + ["\"", "\\", "\n", "é", "\u{1}"][index] }.joined() + "😀"
            let document = JSONValue.object(["body": .string(text)]).jsonBytes
            #expect(try JSONValue(parsing: document) == .object(["body": .string(text)]), "\(run)")
            #expect(Self.decoded(document) == .object(["body": .string(text)]))
        }
    }

    @Test("every truncation of a fixture is refused")
    func truncatedDocumentsAreRefused() throws {
        let file = try #require(Self.eventFiles.first { $0.lastPathComponent == "10-wrong-types.json" })
        let bytes = Array(try Data(contentsOf: file))
        let end = bytes.lastIndex(of: UInt8(ascii: "}")) ?? bytes.count
        for length in 0..<end {
            #expect((try? JSONValue(parsing: bytes[..<length])) == nil, "\(length)")
        }
    }

    @Test("nesting is limited to JSONDecoder's 512 levels")
    func nestingDepthIsLimited() {
        func nested(_ depth: Int, open: String = "[", close: String = "]") -> String {
            String(repeating: open, count: depth) + String(repeating: close, count: depth)
        }
        #expect(Self.parsed(nested(JSONValue.maximumNestingDepth)) != nil)
        #expect(Self.parsed(nested(JSONValue.maximumNestingDepth + 1)) == nil)
        #expect(Self.decoded(Array(nested(JSONValue.maximumNestingDepth + 1).utf8)) == nil)
        #expect(Self.parsed(String(repeating: "{\"a\":", count: 513) + "1" + String(repeating: "}", count: 513)) == nil)
    }

    @Test("hostile nesting a million levels deep is refused without exhausting the stack")
    func hostileNestingIsRefused() {
        #expect(Self.parsed(String(repeating: "[", count: 1_000_000)) == nil)
        #expect(Self.parsed(String(repeating: "{\"a\":[", count: 200_000)) == nil)
    }

    @Test("a byte to escape is escaped at any offset of a string, as JSONEncoder escapes it")
    func escapeAtEveryOffset() throws {
        for length in 0..<20 {
            for offset in 0...length {
                for special in ["\"", "\\", "\n", "\u{1}", "\u{1F}", "é", "😀", "/", "\u{7F}"] {
                    let text = String(repeating: "a", count: offset) + special + String(repeating: "b", count: length - offset)
                    #expect(JSONValue.string(text).jsonBytes == (try Self.encoded(.string(text))), "\(length) \(offset) \(special.debugDescription)")
                }
            }
        }
    }

    @Test("whole numbers are written without a fraction and others in their shortest form")
    func numbersAreWrittenLikeJSONValueEncode() {
        #expect(JSONValue.array([.number(1), .number(-0.0), .number(1e20), .number(0.1), .number(1e-7), .number(9_007_199_254_740_991)]).jsonString
            == "[1,0,1e+20,0.1,1e-07,9007199254740991]")
    }

    @Test("keys are sorted by their UTF-8 bytes, slashes and non-ASCII are written as they are")
    func keysSortedAndSlashesUnescaped() {
        let value = JSONValue.object(["b": .string("a/b"), "B": .string("é"), "a": .null, "\u{1F}": .string("\u{2028}")])
        #expect(value.jsonString == "{\"\\u001f\":\"\u{2028}\",\"B\":\"é\",\"a\":null,\"b\":\"a/b\"}")
    }
}


/// Random inputs for the property checks, from a seeded generator so that a failure is reproducible.
extension Xoshiro {
    /// A generator that draws the same values for the same `seed` (a property check's input), so a
    /// failing case replays from the seed it reports. The constant keeps the state from being all
    /// zeros, where xoshiro would draw only zeros.
    init(propertySeed seed: UInt64) {
        self.init(seed: (seed, 0x9E37_79B9_7F4A_7C15, ~seed, seed &* 0xBF58_476D_1CE4_E5B9))
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    static let scalars: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{8}", "\u{9}", "\u{A}", "\u{C}", "\u{D}", "\u{1F}",
                                             "\u{7F}", "é", "\u{2028}", "€", "😀", "\u{FEFF}", "\u{10FFFF}"]

    mutating func string() -> String {
        var text = String.UnicodeScalarView()
        for _ in 0..<below(8) { text.append(Self.scalars[below(Self.scalars.count)]) }
        return String(text)
    }

    mutating func number() -> Double {
        switch below(5) {
        case 0: return Double(Int(truncatingIfNeeded: next()) % 1_000_000)
        case 1: return Double(Int64(truncatingIfNeeded: next()) >> below(64))
        case 2: return Double(below(100_000)) / 1000
        default:
            let value = Double(bitPattern: next())
            return value.isFinite ? value : 0.5
        }
    }

    mutating func jsonValue(depth: Int) -> JSONValue {
        switch below(depth < 4 ? 7 : 5) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .number(number())
        case 3, 4: return .string(string())
        case 5: return .array((0..<below(5)).map { _ in jsonValue(depth: depth + 1) })
        default: return .object(Dictionary((0..<below(5)).map { _ in (string(), jsonValue(depth: depth + 1)) }) { first, _ in first })
        }
    }

    static let interesting: [UInt8] = Array("{}[],:\"\\ 0123456789-+.eEtrufalsn/".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xED, 0xF0, 0xFF]

    /// Inserts, deletes or replaces one byte, favouring bytes that matter to JSON's grammar.
    mutating func mutate(_ bytes: inout [UInt8]) {
        let position = below(bytes.count + 1)
        let byte = Self.interesting[below(Self.interesting.count)]
        switch below(3) {
        case 0: bytes.insert(byte, at: position)
        case 1 where position < bytes.count: bytes.remove(at: position)
        default: if position < bytes.count { bytes[position] = byte } else { bytes.append(byte) }
        }
    }
}
