import Crypto
import Foundation
import Handlers

/// The admin function on the handler harness, with the secret and admin origin these tests use.
extension Harness {
    static let adminSecret = "test-admin-secret-0123456789abcdef"
    static let adminOrigin = "https://admin.example.com"

    static func admin(widget: WidgetConfig? = nil, environment: [String: String] = [:]) async throws -> Harness {
        try await Harness(environment: ["ADMIN_JWT_SECRET": adminSecret, "ADMIN_ORIGIN": adminOrigin].merging(environment) { $1 },
                          widget: widget)
    }

    /// A token for this harness's secret and clock.
    func token(_ access: AdminToken.Access = .write, lifetime: TimeInterval = 600) -> String {
        AdminToken.sign(subject: "tester", access: access, issuedAt: clock.now(), lifetime: lifetime, secret: Self.adminSecret)
    }

    struct AdminAnswer {
        var status: Int
        var headers: HeaderFields
        var body: JSONValue

        var error: String? { body["error"]?.stringValue }
        var message: String { body["message"]?.stringValue ?? "" }
    }

    func admin(_ method: String, _ path: String, query: [String: String] = [:], body: String? = nil, authorization: String?? = .none,
               origin: String? = nil) async throws -> AdminAnswer {
        var headers: [String: String] = [:]
        switch authorization {
        case .none: headers["authorization"] = "Bearer \(token())"
        case .some(.some(let value)): headers["authorization"] = value
        case .some(.none): break
        }
        if let origin { headers["origin"] = origin }
        let request = HTTPRouteRequest(method: method, path: "/api/admin/\(path)", headers: HeaderFields(headers), queryParameters: query,
                                  pathParameters: ["proxy": path], sourceIp: "192.0.2.1", body: body)
        let response = try await AdminFunction(dependencies: dependencies).handle(request, context: context)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(response.body.utf8))) ?? .null
        return AdminAnswer(status: response.statusCode, headers: response.headers, body: json)
    }
}

/// Hand-made JWTs for the cases a correct signer never produces.
enum RawJWT {
    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func make(header: String = #"{"alg":"HS256","typ":"JWT"}"#, claims: String, secret: String) -> String {
        signed(base64url(Data(header.utf8)), base64url(Data(claims.utf8)), secret: secret)
    }

    /// The header and payload segments exactly as given, and the signature over them.
    static func signed(_ header: String, _ payload: String, secret: String) -> String {
        let signingInput = header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return signingInput + "." + base64url(Data(mac))
    }

    /// `segment` with the unused low bits of its last character XOR-ed with `flip` (taken modulo
    /// the number of unused bits: 4 for a last group of two characters, 2 for three); nil when the
    /// segment has no unused bits (its length is a multiple of four) or `flip` leaves them zero.
    static func flippingUnusedBits(of segment: String, by flip: Int) -> String? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let unused = [0: 0, 2: 4, 3: 2][segment.count % 4] ?? 0
        let mask = flip & ((1 << unused) - 1)
        guard mask != 0, let last = segment.last, let value = alphabet.firstIndex(of: last) else { return nil }
        return String(segment.dropLast()) + String(alphabet[value ^ mask])
    }
}
