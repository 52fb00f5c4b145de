@testable import OpenAIProvider
import PropertyBased
import Testing

@Suite("Server-sent event parser")
struct ServerSentEventParserTests {
    func events(_ text: String, cuts: [Int] = []) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        let bytes = Array(text.utf8)
        var events: [ServerSentEvent] = []
        var start = 0
        for cut in cuts.map({ min($0, bytes.count) }).sorted() + [bytes.count] where cut >= start {
            events += try parser.consume(bytes[start..<cut])
            start = cut
        }
        return events
    }

    @Test("data lines dispatch on a blank line; a space after the colon is dropped, a second one kept")
    func dataLines() throws {
        #expect(try events("data: one\n\ndata:two\n\ndata:  three\n\n").map(\.data) == ["one", "two", " three"])
    }

    @Test("several data lines join with newlines into one event")
    func multiLineData() throws {
        #expect(try events("data: a\ndata: b\n\n") == [ServerSentEvent(data: "a\nb")])
    }

    @Test("LF, CRLF and CR all end lines, mixed in one stream")
    func lineEndings() throws {
        #expect(try events("data: a\r\n\r\ndata: b\r\rdata: c\n\n").map(\.data) == ["a", "b", "c"])
    }

    @Test("comments, retry and unknown fields are ignored; event and id are kept")
    func fields() throws {
        let parsed = try events(": ping\nretry: 10\nfoo: bar\nevent: update\nid: 7\ndata: x\n\n")
        #expect(parsed == [ServerSentEvent(type: "update", data: "x", id: "7")])
    }

    @Test("a blank line with no data dispatches nothing")
    func emptyEvent() throws {
        #expect(try events("event: ping\n\n: only a comment\n\n").isEmpty)
    }

    @Test("an event without its closing blank line is held back as partial")
    func partialEvent() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.consume(Array("data: [DONE]\n".utf8)).isEmpty)
        #expect(parser.hasPartialEvent)
    }

    @Test("a leading byte-order mark is skipped")
    func byteOrderMark() throws {
        #expect(try events("\u{FEFF}data: x\n\n").map(\.data) == ["x"])
    }

    @Test("a line longer than the limit is an error, not unbounded memory")
    func lineLimit() throws {
        var parser = ServerSentEventParser(maximumLineLength: 8)
        #expect(throws: ServerSentEventParser.LineTooLong.self) {
            try parser.consume(Array("data: 0123456789\n\n".utf8))
        }
    }

    static let sample = "data: {\"content\":\"Grüße 👋\"}\r\n\r\n: keep-alive\r\nid: 1\rdata: a\rdata: b\r\r"
        + "event: done\ndata: [DONE]\n\n"

    @Test("chunk boundaries anywhere — inside CRLF, inside a character — give the same events")
    func chunkBoundaries() async throws {
        let whole = try events(Self.sample)
        #expect(whole.map(\.data) == ["{\"content\":\"Grüße 👋\"}", "a\nb", "[DONE]"])
        await propertyCheck(input: Gen.int(in: 0...Self.sample.utf8.count).array(of: 0...12)) { cuts in
            #expect((try? events(Self.sample, cuts: cuts)) == whole)
        }
    }
}
