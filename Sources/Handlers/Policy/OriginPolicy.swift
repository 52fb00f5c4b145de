#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The origin a request claims: the Origin header, or the origin part of the Referer when a client
/// sends no Origin. `raw` keeps exactly what was seen for security events.
public struct RequestOrigin: Sendable, Equatable {
    public var raw: String?
    public var origin: Origin?

    public init(headers: HeaderFields) {
        let value = headers["origin"] ?? headers["referer"]
        raw = value
        origin = value.flatMap(Origin.init)
    }
}

/// Decides whether a page may use a widget: its origin is one of the widget's domains (exactly or
/// a true subdomain; IPs exactly), or first-party (README, “Security model”).
public struct OriginPolicy: Sendable {
    public enum Verdict: Sendable, Equatable {
        /// Allowed; the origin is nil only when missing origins are allowed by configuration.
        case allowed(Origin?)
        case refused(SecurityEventType, reason: String)
    }

    public var configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// First-party origins from `ALLOWED_ORIGINS`/`FRONTEND_URL` are allowed on every widget; otherwise
    /// the host must be one of the widget's domains or a true subdomain of one (`AllowedDomain.matches`:
    /// an IP address or `localhost` entry admits exactly that host). Entries `AllowedDomain` refuses —
    /// stored before its rules — admit nothing.
    public func verdict(for requestOrigin: RequestOrigin, widget: WidgetConfig?) -> Verdict {
        guard let raw = requestOrigin.raw else {
            return configuration.allowMissingOrigin
                ? .allowed(nil) : .refused(.originNotAllowed, reason: "request has no Origin or Referer")
        }
        guard let origin = requestOrigin.origin else {
            return .refused(.originNotAllowed, reason: "origin is not a valid http(s) origin: \(raw.prefix(200))")
        }
        if isFirstParty(origin) { return .allowed(origin) }
        guard let widget else {
            return .refused(.originNotAllowed, reason: "origin is not in ALLOWED_ORIGINS")
        }
        if widget.allowedDomains.compactMap(AllowedDomain.init).contains(where: { $0.matches(origin.host) }) {
            return .allowed(origin)
        }
        return .refused(.domainNotAllowed, reason: "\(origin.host) is not an allowed domain of \(widget.widgetId)")
    }

    public func isFirstParty(_ origin: Origin) -> Bool {
        configuration.allowedOrigins.contains(origin)
    }
}
