import Foundation
import Handlers
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--record DIR`: writes every event the stage hands a handler as a fixture `replay` accepts as is,
/// numbered so that lexical order is arrival order.
///
/// A recording is meant to be shared (fixtures go into `events/`), and a stage under load must not
/// wait for a disk, so:
/// - credentials are redacted: the values of `Authorization`, `Cookie` and similar headers, payload
///   2.0's `cookies`, and token-like query parameters become `REDACTED` (the event keeps its shape
///   and replays; a handler that checks a credential then refuses it, as it should);
/// - the directory is created 0700 and each file 0600, since bodies are users' messages;
/// - `record` never blocks: it numbers the event and hands it to one writer task through a bounded
///   queue; when the writer falls behind, events are dropped and counted, never buffered without end;
/// - the writer does its blocking file calls on NIO's blocking-I/O thread pool, not on an event loop
///   or the cooperative pool, and does not fsync: a fixture is a development aid, not a ledger;
/// - the directory stops growing at `maxBytes` (files already there count), with one warning line.
final class EventRecorder: Sendable {
    /// What replaces a credential's value.
    static let redacted = "REDACTED"
    /// Headers whose values are credentials (compared lower-cased).
    static let credentialHeaders: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-amz-security-token",
        "x-auth-token", "x-csrf-token", "x-xsrf-token",
    ]
    /// Query parameters whose values are credentials (compared lower-cased), e.g. the widget's `token`.
    static let credentialParameters: Set<String> = ["token", "access_token", "id_token", "api_key", "apikey", "x-api-key"]
    /// Default cap of a recording directory.
    static let defaultMaxBytes = 100 * 1024 * 1024

    private struct Fixture: Sendable {
        var name: String
        var payload: [UInt8]
        /// What the invocation answered, written as the fixture's `.expected.json`.
        var expectation: JSONValue?
    }

    private struct Counters {
        var next: Int
        var dropped = 0
    }

    let directory: String
    let maxBytes: Int
    private let counters: Mutex<Counters>
    private let queue: AsyncStream<Fixture>
    private let continuation: AsyncStream<Fixture>.Continuation
    /// Bytes in the directory, counted by the writer only.
    private let existingBytes: Int
    private let log: @Sendable (String) -> Void
    /// Makes the stage's admin tokens replayable (see `AdminTokenResigner`); nil redacts them too.
    private let resigner: AdminTokenResigner?

    /// Creates `directory` (0700) unless it exists; numbering continues after the fixtures already there.
    init(directory: String, maxBytes: Int = EventRecorder.defaultMaxBytes, queueCapacity: Int = 1024, resigner: AdminTokenResigner? = nil,
         log: @escaping @Sendable (String) -> Void = { StageLog.write($0) }) throws {
        self.directory = directory
        self.resigner = resigner
        self.maxBytes = maxBytes
        self.log = log
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let next = existing.compactMap { Int($0.prefix(while: \.isNumber)) }.max().map { $0 + 1 } ?? 1
        existingBytes = existing.reduce(0) { total, name in
            var info = stat()
            return total + (stat("\(directory)/\(name)", &info) == 0 ? Int(info.st_size) : 0)
        }
        counters = Mutex(Counters(next: next))
        (queue, continuation) = AsyncStream<Fixture>.makeStream(bufferingPolicy: .bufferingOldest(queueCapacity))
    }

    /// Queues `payload` as the next fixture, with what the invocation answered (`RecordedExpectation`)
    /// as its expectation; returns at once whether or not the writer keeps up.
    func record(_ payload: [UInt8], function: String, expectation: JSONValue? = nil) {
        let name = counters.withLock { counters in
            defer { counters.next += 1 }
            return String(format: "%04d-%@.json", counters.next, function)
        }
        if case .dropped = continuation.yield(Fixture(name: name, payload: payload, expectation: expectation)) {
            let dropped = counters.withLock { counters in
                counters.dropped += 1
                return counters.dropped
            }
            // One line for the first drop and then one per thousand: a flood must not flood the log.
            if dropped == 1 || dropped % 1000 == 0 {
                log("record: the writer is behind; \(dropped) events not recorded so far (queue full)")
            }
        }
    }

    /// Writes queued fixtures until `finish()` and the queue is empty. Run once, for as long as the stage runs.
    func run() async {
        var written = existingBytes
        var capReached = false
        for await fixture in queue {
            guard !capReached else { continue }
            let (bytes, authorizationRedacted) = Self.redacting(fixture.payload, resigner: resigner)
            // A response to a credential the fixture no longer holds keeps its status and error code;
            // its message described the credential (the replayed request sends `REDACTED`).
            let expectation = authorizationRedacted ? fixture.expectation.map(RecordedExpectation.withoutMessage) : fixture.expectation
            let expected = expectation.map { Array(JSONCoding.string($0).utf8) } ?? []
            guard written + bytes.count + expected.count <= maxBytes else {
                capReached = true
                log("record: \(directory) reached its cap of \(maxBytes) bytes (--record-max-bytes); no further events are recorded")
                continue
            }
            let path = "\(directory)/\(fixture.name)"
            let failure: String?
            do {
                failure = try await NIOThreadPool.singleton.runIfActive {
                    // The expectation first: a fixture is never seen without the expectation it was recorded with.
                    let expectationPath = String(path.dropLast(".json".count)) + ".expected.json"
                    return (expected.isEmpty ? nil : Self.writeOwnerOnly(expected, to: expectationPath)) ?? Self.writeOwnerOnly(bytes, to: path)
                }
            } catch {
                failure = "\(error)"
            }
            if let failure {
                log("record: could not write \(path): \(failure)")
            } else {
                written += bytes.count + expected.count
            }
        }
    }

    /// Stops accepting events; `run()` returns once what was queued is written.
    func finish() {
        continuation.finish()
    }

    /// Creates `path` readable and writable by its owner only and writes `bytes`; nil on success, else why not.
    private static func writeOwnerOnly(_ bytes: [UInt8], to path: String) -> String? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            offset += count
        }
        return nil
    }

    // MARK: Redaction

    /// The event with credentials' values replaced; bytes that are not a JSON object are kept as they are.
    /// An `Authorization` value `resigner` can sign again is kept, re-signed, instead of redacted.
    static func redactingCredentials(_ payload: [UInt8], resigner: AdminTokenResigner? = nil) -> [UInt8] {
        redacting(payload, resigner: resigner).bytes
    }

    /// `redactingCredentials`, and whether an `Authorization` header was redacted rather than signed again.
    static func redacting(_ payload: [UInt8], resigner: AdminTokenResigner?) -> (bytes: [UInt8], authorizationRedacted: Bool) {
        guard case .object(var event)? = try? JSONValue(parsing: payload) else { return (payload, false) }
        var authorizationRedacted = false
        for key in ["headers", "multiValueHeaders"] {
            guard case .object(let headers)? = event[key] else { continue }
            var kept = redacted(headers, names: credentialHeaders)
            for (name, value) in headers where name.lowercased() == "authorization" {
                if let text = value.stringValue, let resigned = resigner?.resign(authorization: text) {
                    kept[name] = .string(resigned)
                } else if let values = value.arrayValue, case let resigned = values.compactMap({ $0.stringValue.flatMap { resigner?.resign(authorization: $0) } }),
                          resigned.count == values.count, !values.isEmpty {
                    kept[name] = .array(resigned.map(JSONValue.string))
                } else {
                    authorizationRedacted = true
                }
            }
            event[key] = .object(kept)
        }
        for key in ["queryStringParameters", "multiValueQueryStringParameters"] {
            if case .object(let parameters)? = event[key] { event[key] = .object(redacted(parameters, names: credentialParameters)) }
        }
        if case .array(let cookies)? = event["cookies"] {
            event["cookies"] = .array(cookies.map { cookie in
                guard case .string(let text) = cookie, let equals = text.firstIndex(of: "=") else { return .string(redacted) }
                return .string("\(text[..<equals])=\(redacted)")
            })
        }
        if case .string(let query)? = event["rawQueryString"] { event["rawQueryString"] = .string(redactedQuery(query)) }
        return (JSONValue.object(event).jsonBytes, authorizationRedacted)
    }

    private static func redacted(_ members: [String: JSONValue], names: Set<String>) -> [String: JSONValue] {
        var members = members
        for (name, value) in members where names.contains(name.lowercased()) {
            if case .array(let values) = value {
                members[name] = .array(values.map { _ in .string(redacted) })
            } else {
                members[name] = .string(redacted)
            }
        }
        return members
    }

    private static func redactedQuery(_ query: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.firstIndex(of: "="),
                  credentialParameters.contains((pair[..<equals].removingPercentEncoding ?? String(pair[..<equals])).lowercased())
            else { return String(pair) }
            return "\(pair[..<equals])=\(redacted)"
        }.joined(separator: "&")
    }
}
