import Foundation
import Handlers
import Synchronization
import WSCore

/// Why a connection ended, as `$disconnect` reports it (`disconnectStatusCode`, `disconnectReason`).
struct DisconnectCause: Sendable, Equatable {
    var statusCode: Int
    var reason: String

    static let deleted = DisconnectCause(statusCode: 1000, reason: "Connection deleted through the @connections API")
    static let idle = DisconnectCause(statusCode: 1001, reason: "Going away")
    static let hardLimit = DisconnectCause(statusCode: 1001, reason: "Going away")
    static let shutdown = DisconnectCause(statusCode: 1001, reason: "Going away")
    static let clientClosed = DisconnectCause(statusCode: 1000, reason: "Client closed the connection")
    static let connectionLost = DisconnectCause(statusCode: 1006, reason: "Connection lost")
    static let tooLarge = DisconnectCause(statusCode: 1009, reason: "Message too big")
}

/// A WebSocket client connected to the stage.
struct LiveConnection: Sendable {
    let id: String
    /// Nil once the connection is gone and only its identity is still needed.
    let outbound: WebSocketOutboundWriter?
    let connectedAt: Date
    let sourceIp: String
    let userAgent: String?
    /// The `$connect` authorizer's context, in `requestContext.authorizer` of every event.
    var authorizer: [String: JSONValue]? = nil
}

/// The stage's open connections. The single place that knows whether a connection is open, so that
/// `@connections` calls, timeouts and shutdown agree, and `$disconnect` is fired once per connection.
///
/// A `Mutex` rather than an actor: every operation is a dictionary lookup or update, and a message
/// touches the registry three times (activity on arrival, the reply's writer, activity on reply), so
/// an actor cost three executor hops per message for critical sections far shorter than a hop.
/// Each method is one critical section, which gives the same atomicity the actor gave.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var connection: LiveConnection
        var lastActiveAt: Date
        /// Set when the stage itself closed the connection; otherwise the client did.
        var serverCause: DisconnectCause?
    }

    private let entries = Mutex<[String: Entry]>([:])

    var count: Int { entries.withLock { $0.count } }
    var ids: [String] { entries.withLock { Array($0.keys) } }

    func add(_ connection: LiveConnection) {
        entries.withLock { $0[connection.id] = Entry(connection: connection, lastActiveAt: connection.connectedAt, serverCause: nil) }
    }

    func touch(_ id: String, at date: Date = Date()) {
        entries.withLock { $0[id]?.lastActiveAt = date }
    }

    /// The connection and its last activity, if it is open.
    func info(_ id: String) -> (LiveConnection, lastActiveAt: Date)? {
        entries.withLock { entries in entries[id].map { ($0.connection, $0.lastActiveAt) } }
    }

    /// The writer of an open connection that the stage has not begun closing.
    func writer(_ id: String) -> WebSocketOutboundWriter? {
        entries.withLock { entries in
            guard let entry = entries[id], entry.serverCause == nil else { return nil }
            return entry.connection.outbound
        }
    }

    /// Marks the connection as closed by the stage for `cause` and returns its writer to send the
    /// close frame; nil when it is not open or already closing.
    func beginClose(_ id: String, cause: DisconnectCause) -> WebSocketOutboundWriter? {
        entries.withLock { entries in
            guard var entry = entries[id], entry.serverCause == nil else { return nil }
            entry.serverCause = cause
            entries[id] = entry
            return entry.connection.outbound
        }
    }

    /// Removes the connection; returns the stage's close cause (nil if the client ended it), or
    /// `.none` when it was already removed — the caller fires `$disconnect` only on the first removal.
    func remove(_ id: String) -> DisconnectCause?? {
        entries.withLock { entries in
            guard let entry = entries.removeValue(forKey: id) else { return .none }
            return .some(entry.serverCause)
        }
    }

    /// Connections idle since before `idleCutoff` or open since before `hardCutoff`.
    func expired(idleCutoff: Date, hardCutoff: Date) -> [(String, DisconnectCause)] {
        entries.withLock { entries in
            entries.compactMap { id, entry in
                guard entry.serverCause == nil else { return nil }
                if entry.connection.connectedAt < hardCutoff { return (id, .hardLimit) }
                if entry.lastActiveAt < idleCutoff { return (id, .idle) }
                return nil
            }
        }
    }
}
