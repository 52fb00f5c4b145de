/// The headers every HTTP response of the handlers carries, errors and preflights included. The
/// responses are JSON for scripts, never pages: nothing may sniff them into HTML, frame them, leak
/// the widget page's URL onwards or keep them in a shared cache.
/// CORS is separate (`CORS`) and untouched by these.
public enum SecurityHeaders {
    static let always: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    /// Sent only on requests that reached API Gateway over HTTPS (`X-Forwarded-Proto: https`, as
    /// API Gateway sets it): a browser ignores it over plain HTTP, and a local `http://` stage must
    /// not pin `localhost` to HTTPS for a year.
    static let strictTransportSecurity = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")

    /// `response` with the headers added, keeping any a handler set itself.
    public static func apply(to response: HTTPRouteResponse, for request: HTTPRouteRequest) -> HTTPRouteResponse {
        var response = response
        for (name, value) in always where response.headers[name] == nil { response.headers.set(name, value) }
        if request.headers["x-forwarded-proto"]?.lowercased() == "https" {
            response.headers.set(strictTransportSecurity.0, strictTransportSecurity.1)
        }
        return response
    }
}
