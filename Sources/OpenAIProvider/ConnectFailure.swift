import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension OpenAIProviderError.ConnectFailure {
    /// What a failed connection attempt to `host:port` reported, or nil when `error` is not about
    /// making the connection (then the connection was made and broke later).
    ///
    /// NIO reports a host name it could not resolve, and addresses that all refused, in one
    /// `NIOConnectionError`; a single address's refusal is an `IOError` with `ECONNREFUSED`.
    /// AsyncHTTPClient's own connect and TLS handshake timeouts are `HTTPClientError`s. NIOSSL's
    /// handshake errors are recognised by their module's name, as the provider does not link
    /// NIOSSL itself.
    init?(error: any Error, host: String, port: Int) {
        if let connection = error as? NIOConnectionError {
            if let dnsError = connection.dnsAError ?? connection.dnsAAAAError, connection.connectionErrors.isEmpty {
                self = .unresolvable(host: connection.host, reason: "\(dnsError)")
            } else if !connection.connectionErrors.isEmpty,
                      connection.connectionErrors.allSatisfy({ Self.isRefusal($0.error) }) {
                self = .refused(host: connection.host, port: connection.port)
            } else if let first = connection.connectionErrors.first {
                self = Self(error: first.error, host: connection.host, port: connection.port) ?? .other("\(first.error)")
            } else {
                self = .other("\(connection)")
            }
        } else if Self.isRefusal(error) {
            self = .refused(host: host, port: port)
        } else if let client = error as? HTTPClientError, client == .connectTimeout {
            self = .timedOut(host: host, port: port)
        } else if let channel = error as? ChannelError, case .connectTimeout = channel {
            self = .timedOut(host: host, port: port)
        } else if let client = error as? HTTPClientError, client == .tlsHandshakeTimeout {
            self = .tls("no TLS handshake within the timeout")
        } else if String(reflecting: type(of: error)).hasPrefix("NIOSSL.") {
            self = .tls("\(error)")
        } else {
            return nil
        }
    }

    private static func isRefusal(_ error: any Error) -> Bool {
        (error as? IOError)?.errnoCode == ECONNREFUSED
    }
}
