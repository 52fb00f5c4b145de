import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bearer tokens of the admin API: JWTs signed with HS256 under `ADMIN_JWT_SECRET` (RFC 7519).
///
/// Only HS256 is accepted, whatever the header claims — the classic JWT mistakes (`alg: none`,
/// an RSA public key reused as an HMAC secret) need the verifier to believe the header. `exp` is
/// required: an admin token that never expires is a standing credential; and so is one that expires
/// in a century, so a token may live `ADMIN_TOKEN_MAX_LIFETIME_SECONDS` (24 h) at most.
///
/// Hostile tokens are refused however they are dressed: each segment must be canonical
/// base64url (one spelling per token, so that a token denied or logged is the token presented),
/// `exp`, `nbf` and `iat` must be numbers of seconds between 1970 and 9999, and `iat` may not lie in
/// the future. `iss` and `aud` are checked when `ADMIN_JWT_ISSUER` / `ADMIN_JWT_AUDIENCE` are set, and
/// ignored otherwise.
public struct AdminToken: Sendable, Equatable {
    /// What the token may do, from its `scope` claim (space-separated, as in OAuth 2.0).
    public enum Access: Sendable, Equatable, Comparable {
        /// `admin:read`: analytics, security events, exports and widget reads.
        case read
        /// `admin`: everything, including widget changes and purges.
        case write
    }

    /// Who the token was issued to (`sub`), for logs.
    public var subject: String?
    public var expiresAt: Date
    /// nil when the token carries neither scope: authenticated, yet allowed nothing.
    public var access: Access?

    /// Why a bearer token was not accepted; each answers 401 with its own description.
    public enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        case notConfigured
        /// `ADMIN_JWT_SECRET` is shorter than `minimumSecretBytes`: the API is as disabled as without one.
        case secretTooShort
        case missing
        case malformed(String)
        case unsupportedAlgorithm(String)
        case badSignature
        case expired(Date)
        case notYetValid(Date)
        case issuedInTheFuture(Date)
        /// The lifetime the token claims and the maximum, in seconds.
        case lifetimeTooLong(TimeInterval, maximum: TimeInterval)
        case wrongIssuer
        case wrongAudience

        public var description: String {
            switch self {
            case .notConfigured: "the admin API is disabled: ADMIN_JWT_SECRET is not set"
            case .secretTooShort: "the admin API is disabled: ADMIN_JWT_SECRET must be at least \(AdminToken.minimumSecretBytes) bytes"
            case .missing: "an Authorization: Bearer <token> header is required"
            case .malformed(let why): "the bearer token is not a JWT: \(why)"
            case .unsupportedAlgorithm(let alg): "tokens must be signed with HS256, not \(alg)"
            case .badSignature: "the token's signature does not verify"
            case .expired(let date): "the token expired at \(ISO8601.string(date))"
            case .notYetValid(let date): "the token is not valid before \(ISO8601.string(date))"
            case .issuedInTheFuture(let date): "the token claims to be issued in the future (iat \(ISO8601.string(date)))"
            case .lifetimeTooLong(let lifetime, let maximum):
                "the token's lifetime of \(Int(lifetime)) s (exp minus iat, or minus now without iat) exceeds the maximum of \(Int(maximum)) s"
            case .wrongIssuer: "the token's iss is not the issuer ADMIN_JWT_ISSUER names"
            case .wrongAudience: "the token's aud does not name the audience ADMIN_JWT_AUDIENCE names"
            }
        }
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` between the issuer and this function.
    public static let leeway: TimeInterval = 30

    /// The shortest `ADMIN_JWT_SECRET` accepted: 256 bits, the size of an HS256 key (RFC 7518 §3.2).
    public static let minimumSecretBytes = 32

    /// The times a NumericDate claim may hold, in seconds since 1970: up to 9999-12-31T23:59:59Z.
    static let numericDates: ClosedRange<Double> = 0...253_402_300_799

    /// The token in `authorization` (the header's value), verified at `now` against the secret, the
    /// maximum lifetime and the expected issuer and audience of `configuration`.
    public static func verify(authorization: String?, configuration: Configuration, now: Date) -> Result<AdminToken, Rejection> {
        guard let secret = configuration.adminJWTSecret, !secret.isEmpty else { return .failure(.notConfigured) }
        guard secret.utf8.count >= minimumSecretBytes else { return .failure(.secretTooShort) }
        guard let authorization = authorization?.trimmed(), !authorization.isEmpty else { return .failure(.missing) }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .failure(.malformed("the Authorization header must be `Bearer <token>`"))
        }
        let token = parts[1].trimmed()
        let segments = Self.segments(of: token)
        guard segments.count == 3 else { return .failure(.malformed("expected three dot-separated parts, found \(segments.count)")) }
        guard let headerBytes = Base64.decodeURL(segments[0]), let payloadBytes = Base64.decodeURL(segments[1]),
              let signature = Base64.decodeURL(segments[2]) else {
            return .failure(.malformed("a part is not canonical base64url (unpadded, its unused low bits zero)"))
        }
        guard case .object(let header)? = try? JSONValue(parsing: headerBytes) else {
            return .failure(.malformed("the header is not a JSON object"))
        }
        guard let algorithm = header["alg"]?.stringValue else { return .failure(.malformed("the header has no alg")) }
        guard algorithm == "HS256" else { return .failure(.unsupportedAlgorithm(algorithm)) }
        // The token's own bytes up to its last dot: the first two segments and the dot between them.
        let signed = Data(token.utf8[segments[0].startIndex..<segments[1].endIndex])
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: SymmetricKey(data: Data(secret.utf8))) else {
            return .failure(.badSignature)
        }
        guard case .object(let claims)? = try? JSONValue(parsing: payloadBytes) else {
            return .failure(.malformed("the payload is not a JSON object"))
        }
        // exp, nbf and iat are NumericDates (RFC 7519 §2), here between 1970 and 9999: a claim of another
        // type is refused rather than passed over, so that no token is more valid than it reads.
        var times: [String: Double] = [:]
        for name in ["exp", "nbf", "iat"] {
            guard let claim = claims[name] else { continue }
            guard let seconds = claim.doubleValue, numericDates.contains(seconds) else {
                return .failure(.malformed("the \(name) claim must be a number of seconds since 1970, before the year 10000"))
            }
            times[name] = seconds
        }
        guard let exp = times["exp"] else { return .failure(.malformed("the payload has no numeric exp claim")) }
        if let issuer = configuration.adminJWTIssuer, claims["iss"]?.stringValue != issuer { return .failure(.wrongIssuer) }
        if let audience = configuration.adminJWTAudience, !Self.audience(claims["aud"], names: audience) { return .failure(.wrongAudience) }
        let expiresAt = Date(timeIntervalSince1970: exp)
        guard now.timeIntervalSince(expiresAt) < leeway else { return .failure(.expired(expiresAt)) }
        if let nbf = times["nbf"], Date(timeIntervalSince1970: nbf).timeIntervalSince(now) > leeway {
            return .failure(.notYetValid(Date(timeIntervalSince1970: nbf)))
        }
        if let iat = times["iat"], Date(timeIntervalSince1970: iat).timeIntervalSince(now) > leeway {
            return .failure(.issuedInTheFuture(Date(timeIntervalSince1970: iat)))
        }
        // Counted from iat when the token has one: a token checked late is no longer-lived for it.
        let lifetime = exp - (times["iat"] ?? now.timeIntervalSince1970)
        guard lifetime <= configuration.adminTokenMaxLifetime else {
            return .failure(.lifetimeTooLong(lifetime, maximum: configuration.adminTokenMaxLifetime))
        }
        let scopes = Set((claims["scope"]?.stringValue ?? "").split(separator: " ").map(String.init))
        let access: Access? = scopes.contains("admin") ? .write : scopes.contains("admin:read") ? .read : nil
        return .success(AdminToken(subject: claims["sub"]?.stringValue, expiresAt: expiresAt, access: access))
    }

    /// Whether an `aud` claim names `audience`: as its string, or as one string of its array (RFC 7519 §4.1.3).
    static func audience(_ claim: JSONValue?, names audience: String) -> Bool {
        switch claim {
        case .string(let value)?: value == audience
        case .array(let values)?: values.contains(.string(audience))
        default: false
        }
    }

    /// The dot-separated parts of `token`, as `split(separator: ".", omittingEmptySubsequences: false)`
    /// cuts them. An ASCII token (every real one) is cut at its dot bytes: in ASCII a dot is always a
    /// `Character` of its own, and walking the token's `Character`s costs a tenth of verifying it.
    static func segments(of token: String) -> [Substring] {
        let utf8 = token.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return token.split(separator: ".", omittingEmptySubsequences: false) }
        var segments: [Substring] = []
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: ".") {
                segments.append(token[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        segments.append(token[start..<utf8.endIndex])
        return segments
    }

    /// A signed token, as `local-runtime admin token` issues for the local secret; deployed stacks
    /// get theirs from whatever identity system holds `ADMIN_JWT_SECRET`.
    public static func sign(subject: String, access: Access, issuedAt: Date, lifetime: TimeInterval, secret: String) -> String {
        let header = Base64.encodeURL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims: JSONValue = .object([
            "sub": .string(subject),
            "scope": .string(access == .write ? "admin" : "admin:read"),
            "iat": .number(issuedAt.timeIntervalSince1970.rounded(.down)),
            "exp": .number((issuedAt.timeIntervalSince1970 + lifetime).rounded(.down)),
        ])
        let payload = Base64.encodeURL(Data(JSONCoding.string(claims).utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(payload).\(Base64.encodeURL(Data(mac)))"
    }
}
