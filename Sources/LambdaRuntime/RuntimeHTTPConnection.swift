#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response from the Runtime API.
public struct RuntimeHTTPResponse: Sendable {
    public var status: Int
    /// The `Lambda-Runtime-*` headers (the only ones the protocol defines), names lower-cased.
    /// Framing headers (`Content-Length`, `Transfer-Encoding`, `Connection`) are consumed by the client.
    public var headers: [String: String]
    public var body: [UInt8]
}

/// Why talking to the Runtime API failed.
public enum RuntimeConnectionError: Error, Equatable, CustomStringConvertible {
    case invalidEndpoint(String)
    case connectFailed(String, Int32)
    case closedByPeer
    case malformedResponse(String)
    case ioFailed(Int32)

    public var description: String {
        switch self {
        case .invalidEndpoint(let endpoint): "AWS_LAMBDA_RUNTIME_API is not host:port or host:port/path: \(endpoint)"
        case .connectFailed(let endpoint, let code): "cannot connect to the Runtime API at \(endpoint) (errno \(code))"
        case .closedByPeer: "the Runtime API closed the connection"
        case .malformedResponse(let detail): "malformed Runtime API response: \(detail)"
        case .ioFailed(let code): "Runtime API socket error (errno \(code))"
        }
    }
}

/// A blocking HTTP/1.1 client for the Runtime API, over one kept-alive TCP connection.
///
/// The Runtime API is plain HTTP on the sandbox's loopback and a function handles one invocation at
/// a time, so a blocking socket is all the loop needs: no event loop to start at cold start, no
/// thread hops per invocation. The connection is reopened once when the peer has closed it.
///
/// Per request it costs one `sendmsg` (head and body gathered, nothing copied) and, for a response
/// that arrives in one segment, one `recv`: the receive buffer and the request head buffer are kept
/// across requests, and the response head is parsed over its bytes in place.
public final class RuntimeHTTPConnection {
    private let host: String
    private let port: UInt16
    /// The path every request goes under (`/secret`, or empty), from `host:port/secret`.
    private let pathPrefix: [UInt8]
    private var descriptor: Int32 = -1
    /// Received bytes; `buffer[start..<end]` is not consumed yet.
    private var buffer: [UInt8] = []
    private var start = 0
    private var end = 0
    /// The request head being built; its storage is reused by every request.
    private var head: [UInt8] = []
    /// `Host: …\r\nUser-Agent: …\r\n`, the same on every request.
    private let fixedHeaders: [UInt8]

    /// `endpoint` is `AWS_LAMBDA_RUNTIME_API`: `host:port`, or `host:port/path` — what `local-runtime`
    /// gives each sandbox, whose Runtime API sits under a path only that sandbox's runtime knows. As
    /// in the AWS runtime clients, which build `http://` + endpoint + path, requests go under the path.
    public init(endpoint: String) throws(RuntimeConnectionError) {
        let slash = endpoint.firstIndex(of: "/") ?? endpoint.endIndex
        let authority = endpoint[..<slash]
        guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...]) else {
            throw .invalidEndpoint(endpoint)
        }
        host = String(authority[..<colon])
        self.port = port
        var prefix = endpoint[slash...]
        while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
        pathPrefix = Array(prefix.utf8)
        fixedHeaders = Array("Host: \(host):\(port)\r\nUser-Agent: swift-chat-widget-bootstrap\r\n".utf8)
        buffer = [UInt8](repeating: 0, count: 64 * 1024)
        head.reserveCapacity(1024)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// One request; `path` is given as pieces so that callers need not concatenate them first.
    public func request(_ method: StaticString, _ path: [String], headers: [(StaticString, String)] = [], body: [UInt8] = []) throws(RuntimeConnectionError) -> RuntimeHTTPResponse {
        head.removeAll(keepingCapacity: true)
        append(method)
        head.append(0x20)
        head.append(contentsOf: pathPrefix)
        for piece in path { head.append(contentsOf: piece.utf8) }
        append(" HTTP/1.1\r\n")
        head.append(contentsOf: fixedHeaders)
        for (name, value) in headers {
            append(name)
            append(": ")
            head.append(contentsOf: value.utf8)
            append("\r\n")
        }
        if method.utf8Start.pointee != UInt8(ascii: "G") || !body.isEmpty {
            append("Content-Length: ")
            head.append(contentsOf: String(body.count).utf8)
            append("\r\n")
        }
        append("\r\n")
        do {
            return try exchange(body)
        } catch .closedByPeer {
            // A kept-alive connection the server dropped while idle: one fresh attempt.
            reset()
            return try exchange(body)
        }
    }

    private func append(_ text: StaticString) {
        head.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private func exchange(_ body: [UInt8]) throws(RuntimeConnectionError) -> RuntimeHTTPResponse {
        if descriptor < 0 { try open() }
        try send(body)
        return try readResponse()
    }

    private func reset() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        start = 0
        end = 0
    }

    private func open() throws(RuntimeConnectionError) {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Socket.stream
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host == "localhost" ? "127.0.0.1" : host, String(port), &hints, &results) == 0, let first = results else {
            throw .connectFailed("\(host):\(port)", errno)
        }
        defer { freeaddrinfo(results) }
        let socketDescriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard socketDescriptor >= 0 else { throw .connectFailed("\(host):\(port)", errno) }
        guard connect(socketDescriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(socketDescriptor)
            throw .connectFailed("\(host):\(port)", code)
        }
        var noDelay: Int32 = 1
        setsockopt(socketDescriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        Socket.suppressSIGPIPE(socketDescriptor)
        descriptor = socketDescriptor
    }

    /// Sends the head and `body` with one gathering `sendmsg` (and more only if the kernel takes less).
    private func send(_ body: [UInt8]) throws(RuntimeConnectionError) {
        let headCount = head.count
        let total = headCount + body.count
        var sent = 0
        while sent < total {
            let written = head.withUnsafeBytes { headBytes in
                body.withUnsafeBytes { bodyBytes in
                    var vectors = (iovec(), iovec())
                    var count: Int
                    if sent < headCount {
                        vectors.0 = iovec(iov_base: UnsafeMutableRawPointer(mutating: headBytes.baseAddress.map { $0 + sent }), iov_len: headCount - sent)
                        vectors.1 = iovec(iov_base: UnsafeMutableRawPointer(mutating: bodyBytes.baseAddress), iov_len: bodyBytes.count)
                        count = bodyBytes.isEmpty ? 1 : 2
                    } else {
                        vectors.0 = iovec(iov_base: UnsafeMutableRawPointer(mutating: bodyBytes.baseAddress.map { $0 + (sent - headCount) }),
                                          iov_len: total - sent)
                        count = 1
                    }
                    return withUnsafeMutablePointer(to: &vectors) { pointer in
                        pointer.withMemoryRebound(to: iovec.self, capacity: 2) { iov in
                            var message = msghdr()
                            message.msg_iov = iov
                            message.msg_iovlen = numericCast(count)
                            return sendmsg(descriptor, &message, Socket.sendFlags)
                        }
                    }
                }
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw errno == EPIPE || errno == ECONNRESET ? .closedByPeer : .ioFailed(errno)
            }
            sent += written
        }
    }

    /// Reads more bytes after `end`, compacting or growing the buffer first when it is full; false
    /// at end of stream.
    private func fill() throws(RuntimeConnectionError) -> Bool {
        if start == end {
            start = 0
            end = 0
        }
        if end == buffer.count {
            if start > 0 {
                buffer.withUnsafeMutableBytes { bytes in
                    guard let base = bytes.baseAddress else { return }
                    memmove(base, base + start, end - start)
                }
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { bytes in
                recv(descriptor, bytes.baseAddress.map { $0 + end }, bytes.count - end, 0)
            }
            if count > 0 {
                end += count
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if errno == ECONNRESET { return false }
            throw .ioFailed(errno)
        }
    }

    /// The offset of the first `\r\n\r\n` at or after `from`, if any, before `end`.
    private func headEnd(from: Int) -> Int? {
        guard end - from >= 4 else { return nil }
        return buffer.withUnsafeBufferPointer { bytes -> Int? in
            var index = from
            let last = end - 4
            while index <= last {
                // step by the byte at +3: unless it is '\n', no match can start at index...index+3
                let fourth = bytes[index + 3]
                if fourth != 10 {
                    index += fourth == 13 ? 1 : 4
                    continue
                }
                if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 { return index }
                index += 1
            }
            return nil
        }
    }

    private func readResponse() throws(RuntimeConnectionError) -> RuntimeHTTPResponse {
        // From `start` every time: `fill` may move the unconsumed bytes to the front of the buffer.
        var headerEnd = headEnd(from: start)
        while headerEnd == nil {
            if !(try fill()) {
                // Nothing at all came back: the server had closed the kept-alive connection.
                if start == end { throw .closedByPeer }
                throw .malformedResponse("connection closed inside the response head")
            }
            headerEnd = headEnd(from: start)
        }
        guard let headerEnd else { throw .malformedResponse("no header end") }
        let parsed = try buffer.withUnsafeBufferPointer { bytes throws(RuntimeConnectionError) in
            try ResponseHead(UnsafeBufferPointer(rebasing: bytes[start..<headerEnd]))
        }
        start = headerEnd + 4
        let body: [UInt8]
        if parsed.chunked {
            body = try readChunkedBody()
        } else if let length = parsed.contentLength {
            while end - start < length {
                guard try fill() else { throw .malformedResponse("connection closed inside the body") }
            }
            body = Array(buffer[start..<(start + length)])
            start += length
        } else {
            body = []
        }
        if parsed.close { reset() }
        return RuntimeHTTPResponse(status: parsed.status, headers: parsed.headers, body: body)
    }

    private func readChunkedBody() throws(RuntimeConnectionError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            var lineEnd = lineEnd()
            while lineEnd == nil {
                guard try fill() else { throw .malformedResponse("connection closed inside a chunk") }
                lineEnd = self.lineEnd()
            }
            guard let lineEnd else { throw .malformedResponse("no chunk size") }
            let sizeText = String(decoding: buffer[start..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else { throw .malformedResponse("chunk size \(sizeText)") }
            start = lineEnd + 2
            while end - start < size + 2 {
                guard try fill() else { throw .malformedResponse("connection closed inside a chunk") }
            }
            body += buffer[start..<(start + size)]
            start += size + 2
            if size == 0 { return body }
        }
    }

    private func lineEnd() -> Int? {
        guard end - start >= 2 else { return nil }
        for index in start..<(end - 1) where buffer[index] == 13 && buffer[index + 1] == 10 { return index }
        return nil
    }
}

/// The socket API's spellings that differ between Glibc and Darwin.
enum Socket {
    /// `SOCK_STREAM`: a C enum (`__socket_type`) in Glibc, an `Int32` macro in Darwin.
    static var stream: Int32 {
        #if canImport(Glibc)
        Int32(SOCK_STREAM.rawValue)
        #else
        SOCK_STREAM
        #endif
    }

    /// A write to a connection the peer closed must fail with `EPIPE`, not kill the process with
    /// `SIGPIPE`: per call with `MSG_NOSIGNAL` on Linux; Darwin has no such flag, so there the
    /// socket is marked once with `SO_NOSIGPIPE`.
    static var sendFlags: Int32 {
        #if canImport(Glibc)
        Int32(MSG_NOSIGNAL)
        #else
        0
        #endif
    }

    static func suppressSIGPIPE(_ descriptor: Int32) {
        #if canImport(Darwin)
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }
}

/// A response head parsed over its bytes: the status, the framing, and the `Lambda-Runtime-*` headers.
struct ResponseHead {
    typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>

    var status = 0
    var contentLength: Int?
    var chunked = false
    var close = false
    var headers: [String: String] = [:]

    init(_ bytes: UnsafeBufferPointer<UInt8>) throws(RuntimeConnectionError) {
        var lines = HeadLines(bytes: bytes)
        guard let statusLine = lines.next() else { throw .malformedResponse("empty head") }
        // "HTTP/1.x NNN reason"
        let s = statusLine.startIndex
        guard statusLine.count >= 12, Self.hasPrefix(statusLine, "http/1."), statusLine[s + 8] == 0x20,
              let status = Self.decimal(statusLine[(s + 9)..<(s + 12)]) else {
            throw .malformedResponse("status line \(String(decoding: statusLine.prefix(80), as: UTF8.self))")
        }
        self.status = status
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[line.startIndex..<colon]
            var valueStart = colon + 1
            while valueStart < line.endIndex, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
            var valueEnd = line.endIndex
            while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let value = line[valueStart..<valueEnd]
            if name.count > 15, Self.hasPrefix(name, "lambda-runtime-") {
                headers[String(decoding: name, as: UTF8.self).lowercased()] = String(decoding: value, as: UTF8.self)
            } else if name.count == 14, Self.hasPrefix(name, "content-length") {
                guard let length = Self.decimal(value) else { throw .malformedResponse("Content-Length") }
                contentLength = length
            } else if name.count == 17, Self.hasPrefix(name, "transfer-encoding") {
                chunked = String(decoding: value, as: UTF8.self).lowercased().contains("chunked")
            } else if name.count == 10, Self.hasPrefix(name, "connection") {
                close = String(decoding: value, as: UTF8.self).lowercased() == "close"
            }
        }
    }

    /// Whether `bytes` starts with `prefix` (given in lower case), ignoring ASCII case.
    static func hasPrefix(_ bytes: Bytes, _ prefix: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard bytes.count >= expected.count else { return false }
        var index = bytes.startIndex
        for byte in expected {
            let actual = bytes[index]
            let lowered = actual >= UInt8(ascii: "A") && actual <= UInt8(ascii: "Z") ? actual | 0x20 : actual
            if lowered != byte { return false }
            index += 1
        }
        return true
    }

    /// A non-negative decimal number spanning all of `bytes` (at most 18 digits).
    static func decimal(_ bytes: Bytes) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }
}

/// The lines of a head (split at CRLF), as slices of its bytes.
struct HeadLines: IteratorProtocol {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var finished = false

    mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
        guard !finished else { return nil }
        var index = position
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 {
                let line = bytes[position..<index]
                position = index + 2
                return line
            }
            index += 1
        }
        finished = true
        return bytes[position..<bytes.count]
    }
}

extension StringProtocol {
    var trimmingSpaces: String { String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}
