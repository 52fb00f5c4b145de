import HummingbirdCore
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Closes a connection whose first request head has not fully arrived `timeout` after it opened:
/// a client that opens connections and sends headers slowly, or never, would otherwise hold a
/// descriptor each for ever (slowloris). It sits first in the pipeline and sees raw bytes; the stage
/// removes it as soon as a request head is complete (`StageChannel`'s upgrade callbacks). Later
/// requests on a kept-alive connection are bounded by the idle timeout of `HTTPConnectionStateHandler`.
final class HeaderReadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let name = "header-read-deadline"

    private let timeout: TimeAmount
    private var scheduled: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        scheduled = context.eventLoop.scheduleTask(in: timeout) {
            let context = loopBoundContext.value
            let answer = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            context.writeAndFlush(NIOAny(ByteBuffer(string: answer)), promise: nil)
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
    }

    /// Removes the deadline from `channel`'s pipeline once a request head has arrived; on the channel's event loop.
    static func requestHeadArrived(on channel: any Channel) {
        guard let context = try? channel.pipeline.syncOperations.context(name: name) else { return }
        channel.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Answers a request the HTTP parser rejects — 431 when its head is larger than the limit, 400 for
/// anything else malformed — and lets the decoder close the connection. NIO's own
/// `HTTPServerProtocolErrorHandler` answers 400 to both, and without any handler the client gets
/// nothing and the connection stays open.
final class StageHTTPErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "stage-http-errors"

    /// A response has begun and not ended: an error response cannot be sent in the middle of it.
    private var responseInProgress = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError, !responseInProgress {
            let status: HTTPResponseStatus
            if case .headerOverflow = parserError { status = .requestHeaderFieldsTooLarge } else { status = .badRequest }
            let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200: responseInProgress = true
        case .head: break
        case .body: break
        case .end: responseInProgress = false
        }
        context.write(data, promise: promise)
    }

    /// Removes the handler before a WebSocket upgrade hands the pipeline over to frames.
    static func remove(from channel: any Channel) {
        guard let context = try? channel.pipeline.syncOperations.context(name: name) else { return }
        channel.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Stops accepting connections while `limit` are open, so that half-open clients never exhaust the
/// process's descriptors: further clients wait in the kernel's listen backlog, and are accepted as
/// soon as a connection closes (the header-read and idle timeouts see to it that idle ones do).
/// Logs one line each time the limit is reached after having been clear of it.
struct ConnectionCap: AvailableConnectionsDelegate {
    let limit: Int
    private var open = 0
    private var atLimit = false
    private let log: @Sendable (String) -> Void

    init(limit: Int, log: @escaping @Sendable (String) -> Void) {
        self.limit = limit
        self.log = log
    }

    mutating func connectionOpened() {
        open += 1
        if open >= limit, !atLimit {
            atLimit = true
            log("local-runtime: connection limit reached (\(limit) open, --max-connections); new connections wait until one closes")
        }
    }

    mutating func connectionClosed() {
        open -= 1
        // Hysteresis: one line per episode, not one per connection while the stage hovers at the limit.
        if open < limit * 9 / 10 { atLimit = false }
    }

    func isAcceptingNewConnections() -> Bool {
        open < limit
    }
}

/// The descriptor budget of the process: raises the soft limit to the hard one and returns the
/// number of connections that leaves room for, after `reserve` descriptors for files, SQLite,
/// runtime processes and the Runtime API servers.
enum DescriptorBudget {
    static func connections(reserve: Int = 128) -> Int {
        var limits = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limits) == 0 else { return 1024 - reserve }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limits = raised }
        }
        // RLIM_INFINITY is the largest value; no process needs more than a million connections.
        let available = Int(clamping: min(limits.rlim_cur, 1 << 20))
        return max(16, available - reserve)
    }

    #if canImport(Glibc)
    private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
    #endif
}
