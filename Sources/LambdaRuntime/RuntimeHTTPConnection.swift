#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response from the Runtime API.
public struct RuntimeHTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
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
        case .invalidEndpoint(let endpoint): "AWS_LAMBDA_RUNTIME_API is not host:port: \(endpoint)"
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
public final class RuntimeHTTPConnection {
    private let host: String
    private let port: UInt16
    private var descriptor: Int32 = -1
    private var buffer: [UInt8] = []

    /// `endpoint` is `AWS_LAMBDA_RUNTIME_API`: `host:port`.
    public init(endpoint: String) throws(RuntimeConnectionError) {
        guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...]) else {
            throw .invalidEndpoint(endpoint)
        }
        host = String(endpoint[..<colon])
        self.port = port
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    public func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) throws(RuntimeConnectionError) -> RuntimeHTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: swift-chat-widget-bootstrap\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let message = Array(head.utf8) + body
        do {
            return try exchange(message)
        } catch .closedByPeer {
            // A kept-alive connection the server dropped while idle: one fresh attempt.
            reset()
            return try exchange(message)
        }
    }

    private func exchange(_ message: [UInt8]) throws(RuntimeConnectionError) -> RuntimeHTTPResponse {
        if descriptor < 0 { try open() }
        try send(message)
        return try readResponse()
    }

    private func reset() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        buffer.removeAll()
    }

    private func open() throws(RuntimeConnectionError) {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
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
        descriptor = socketDescriptor
    }

    private func send(_ bytes: [UInt8]) throws(RuntimeConnectionError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw errno == EPIPE || errno == ECONNRESET ? .closedByPeer : .ioFailed(errno)
            }
            offset += written
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws(RuntimeConnectionError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[..<count])
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if errno == ECONNRESET { return false }
            throw .ioFailed(errno)
        }
    }

    private func readResponse() throws(RuntimeConnectionError) -> RuntimeHTTPResponse {
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = Self.find([13, 10, 13, 10], in: buffer)
            if headerEnd == nil, !(try fill()) {
                // Nothing at all came back: the server had closed the kept-alive connection.
                if buffer.isEmpty { throw .closedByPeer }
                throw .malformedResponse("connection closed inside the response head")
            }
        }
        guard let headerEnd else { throw .malformedResponse("no header end") }
        let headText = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        buffer.removeFirst(headerEnd + 4)
        var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false).makeIterator()
        guard let statusLine = lines.next() else { throw .malformedResponse("empty head") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformedResponse("status line \(statusLine.prefix(80))")
        }
        var headers: [String: String] = [:]
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
        }
        let body: [UInt8]
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            body = try readChunkedBody()
        } else if let length = headers["content-length"].flatMap({ Int($0.trimmingSpaces) }) {
            guard length >= 0 else { throw .malformedResponse("negative Content-Length") }
            while buffer.count < length {
                guard try fill() else { throw .malformedResponse("connection closed inside the body") }
            }
            body = Array(buffer[..<length])
            buffer.removeFirst(length)
        } else {
            body = []
        }
        if headers["connection"]?.lowercased() == "close" { reset() }
        return RuntimeHTTPResponse(status: status, headers: headers, body: body)
    }

    private func readChunkedBody() throws(RuntimeConnectionError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            var lineEnd = Self.find([13, 10], in: buffer)
            while lineEnd == nil {
                guard try fill() else { throw .malformedResponse("connection closed inside a chunk") }
                lineEnd = Self.find([13, 10], in: buffer)
            }
            guard let lineEnd else { throw .malformedResponse("no chunk size") }
            let sizeText = String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else { throw .malformedResponse("chunk size \(sizeText)") }
            buffer.removeFirst(lineEnd + 2)
            while buffer.count < size + 2 {
                guard try fill() else { throw .malformedResponse("connection closed inside a chunk") }
            }
            body += buffer[..<size]
            buffer.removeFirst(size + 2)
            if size == 0 { return body }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        }
        return nil
    }
}

extension StringProtocol {
    var trimmingSpaces: String { String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}
