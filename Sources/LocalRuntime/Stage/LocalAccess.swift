import Handlers
import HTTPTypes
import Hummingbird
import Synchronization

/// Who may use the stage's own endpoints — the dev console (`/_dev/*`) and `@connections` — as
/// opposed to the template's APIs, which answer anyone, as API Gateway does.
///
/// The stage is a server people leave running while they browse, and a web page can send requests
/// to loopback. So these endpoints:
/// - answer only the `Host` names the stage serves, with its port (`localhost`, `127.0.0.1`, `[::1]`,
///   the `--host` value, and each `--allowed-host`): a page on `attacker.example` whose name was
///   rebound to 127.0.0.1 sends `Host: attacker.example` and is refused (DNS rebinding);
/// - refuse what a browser marks as coming from another page: an `Origin` other than the stage's
///   own, or `Sec-Fetch-Site` other than `same-origin` or `none` (typed by the user). Non-browser
///   clients (boto3, curl, the functions' own poster) send neither header and are let in.
///
/// The console page itself is the one exception to the second rule: following a link to it from
/// another site is fine, since nothing on it acts without the user, and it cannot be framed.
struct LocalAccessPolicy: Sendable {
    /// Host names the stage answers on, lower-cased; IPv6 addresses in brackets.
    let hostNames: Set<String>

    init(bindHost: String, allowedHosts: [String]) {
        var names: Set<String> = ["localhost", "127.0.0.1", "[::1]"]
        for name in [bindHost] + allowedHosts {
            let lowered = name.lowercased()
            names.insert(lowered.contains(":") && !lowered.hasPrefix("[") ? "[\(lowered)]" : lowered)
        }
        hostNames = names
    }

    enum Verdict: Equatable, Sendable {
        case allowed
        /// The `Host` header names something the stage does not serve (or is missing).
        case foreignHost
        /// A browser says another page sent the request.
        case crossSite
    }

    /// `authority` is the request's `Host`; `port` the port the stage listens on.
    func verdict(authority: String?, origin: String?, fetchSite: String?, port: Int, allowCrossSite: Bool = false) -> Verdict {
        guard let authority = authority?.lowercased(), serves(authority, port: port) else { return .foreignHost }
        if allowCrossSite { return .allowed }
        if let origin, origin.lowercased() != "http://\(authority)" { return .crossSite }
        if let fetchSite, !["same-origin", "none"].contains(fetchSite.lowercased()) { return .crossSite }
        return .allowed
    }

    /// Whether `authority` (`name:port`, or a bare name when the port is 80) is one of the stage's own.
    private func serves(_ authority: String, port: Int) -> Bool {
        let name: Substring
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard authority[authority.index(after: colon)...] == "\(port)" else { return false }
            name = authority[..<colon]
        } else {
            guard port == 80 else { return false }
            name = Substring(authority)
        }
        return hostNames.contains(String(name))
    }
}

extension Stage {
    private static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")

    /// The refusal for a request to the console or `@connections` that `accessPolicy` does not allow, or nil.
    func localAccessRefusal(_ request: Request, allowCrossSite: Bool = false, awsError: Bool = false) -> Response? {
        let verdict = accessPolicy.verdict(
            authority: request.head.authority, origin: request.headers[.origin],
            fetchSite: Self.secFetchSite.flatMap { request.headers[$0] }, port: boundPort, allowCrossSite: allowCrossSite)
        let message: String
        switch verdict {
        case .allowed: return nil
        case .foreignHost: message = "Forbidden: this host name is not served here (see --allowed-host)"
        case .crossSite: message = "Forbidden: cross-site requests are refused"
        }
        var headers = ["Content-Type": "application/json"]
        if awsError { headers["x-amzn-ErrorType"] = "ForbiddenException" }
        return Self.response(status: 403, headers: headers, body: Array(JSONCoding.string(["message": message]).utf8))
    }
}

/// The port a server ended up listening on, known once it runs (it differs from the option when that is 0).
final class BoundPort: Sendable {
    private let port: Mutex<Int>

    init(_ port: Int) {
        self.port = Mutex(port)
    }

    var value: Int { port.withLock { $0 } }

    func set(_ port: Int) {
        self.port.withLock { $0 = port }
    }
}

/// `start-lambda`'s invoke API under `LocalAccessPolicy`. Lambda's own invoke API takes only signed
/// requests; locally nothing is checked, so without this any page the user visits could POST a
/// `text/plain` body to `127.0.0.1:3002` and run a function with it. boto3 and the AWS CLI send
/// neither `Origin` nor `Sec-Fetch-Site` and are let in.
struct LocalAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: LocalAccessPolicy
    let port: BoundPort
    private static var secFetchSite: HTTPField.Name? { HTTPField.Name("Sec-Fetch-Site") }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let verdict = policy.verdict(authority: request.head.authority, origin: request.headers[.origin],
                                     fetchSite: Self.secFetchSite.flatMap { request.headers[$0] }, port: port.value)
        guard verdict == .allowed else {
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            if let errorType = HTTPField.Name("x-amzn-ErrorType") { headers[errorType] = "AccessDeniedException" }
            let message = verdict == .foreignHost ? "Forbidden: this host name is not served here" : "Forbidden: cross-site requests are refused"
            return Response(status: .forbidden, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: JSONCoding.string(["Type": "User", "message": message]))))
        }
        return try await next(request, context)
    }
}
