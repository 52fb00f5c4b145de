import Crypto
import Foundation
import Handlers
import _CryptoExtras
import AsyncHTTPClient
import NIOCore

/// The public keys of a JWKS document (`{"keys": [...]}`): RSA keys for RS256 and P-256 keys for
/// ES256, by `kid`. Keys of other types are skipped, as a token signed with one cannot be checked.
struct JSONWebKeySet: Sendable {
    enum Key: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        /// The raw x‖y representation (Crypto's P-256 keys are not Sendable).
        case p256(Data)
    }

    var keys: [String: Key]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(json: [UInt8]) throws {
        guard let document = try? JSONValue(parsing: json), let list = document["keys"]?.arrayValue else {
            throw Failure(description: "not a JWKS document ({\"keys\": [...]})")
        }
        var keys: [String: Key] = [:]
        for (index, key) in list.enumerated() {
            let kid = key["kid"]?.stringValue ?? "\(index)"
            switch key["kty"]?.stringValue {
            case "RSA":
                guard let n = key["n"]?.stringValue.flatMap(Self.base64URL), let e = key["e"]?.stringValue.flatMap(Self.base64URL) else { continue }
                keys[kid] = .rsa(try _RSA.Signing.PublicKey(n: n, e: e))
            case "EC" where key["crv"]?.stringValue == "P-256":
                guard let x = key["x"]?.stringValue.flatMap(Self.base64URL), let y = key["y"]?.stringValue.flatMap(Self.base64URL) else { continue }
                _ = try P256.Signing.PublicKey(rawRepresentation: x + y)
                keys[kid] = .p256(x + y)
            default:
                continue
            }
        }
        self.keys = keys
    }

    /// The JWKS at `source`: a file, or an `http(s)://` URL read once at start-up (at most 1 MB). The
    /// document may also be an OpenID Provider's metadata (`…/.well-known/openid-configuration`),
    /// whose `jwks_uri` is then read: what an identity provider publishes, and what its issuer
    /// URL leads to.
    static func load(_ source: String) async throws -> JSONWebKeySet {
        let document = try await read(source)
        if let metadata = try? JSONValue(parsing: document), metadata["keys"] == nil, let jwksURI = metadata["jwks_uri"]?.stringValue {
            // Keys read over TLS are not then fetched in the clear.
            guard jwksURI.hasPrefix("https://") || (jwksURI.hasPrefix("http://") && !source.hasPrefix("https://")) else {
                throw Failure(description: "--jwks \(source): jwks_uri \(jwksURI.prefix(200)) is not an \(source.hasPrefix("https://") ? "https" : "http(s)") URL")
            }
            return try JSONWebKeySet(json: try await read(jwksURI))
        }
        return try JSONWebKeySet(json: document)
    }

    /// The bytes of a file, or of an `http(s)://` URL (at most 1 MB, 10 s).
    private static func read(_ source: String) async throws -> [UInt8] {
        guard source.hasPrefix("http://") || source.hasPrefix("https://") else {
            guard let data = FileManager.default.contents(atPath: source) else { throw Failure(description: "cannot read --jwks \(source)") }
            return Array(data)
        }
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: source), timeout: .seconds(10))
        guard response.status == .ok else { throw Failure(description: "--jwks \(source) answered \(response.status.code)") }
        return Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
    }

    /// Unpadded base64url (RFC 7515) to bytes; nil when it is not canonical base64url.
    static func base64URL(_ text: some StringProtocol) -> Data? {
        Base64.decodeURL(Substring(text))
    }
}

/// A JWT authorizer of an HTTP API (`AuthorizerType: JWT`): the token (a bearer token in the
/// identity source) must be signed by a key of the JWKS, issued by `issuer` for one of `audiences`
/// (its `aud`, or `client_id`), and within `nbf`/`exp`; otherwise the answer is 401, as API Gateway's.
struct JWTAuthorizer: Sendable, Equatable {
    var issuer: String
    var audiences: [String]
    /// Other issuers whose tokens pass too: a Cognito authorizer of several user pools.
    var otherIssuers: [String] = []
    /// Whether a token without `exp` is refused (Cognito's tokens always carry one).
    var requiresExpiry = false

    /// The token's claims and scopes when it passes, as the route's event carries them
    /// (`requestContext.authorizer.jwt`), or why it does not.
    func verify(_ token: String, keys: JSONWebKeySet, now: Date) -> Result<JSONValue, JSONWebKeySet.Failure> {
        let bearer = token.hasPrefix("Bearer ") ? String(token.dropFirst("Bearer ".count)) : token
        let parts = bearer.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = JSONWebKeySet.base64URL(parts[0]), let claimBytes = JSONWebKeySet.base64URL(parts[1]),
              let signature = JSONWebKeySet.base64URL(parts[2]), let header = try? JSONValue(parsing: Array(headerBytes)),
              case .object(let claims) = (try? JSONValue(parsing: Array(claimBytes))) ?? .null else {
            return .failure(.init(description: "not a JWT"))
        }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        let candidates = header["kid"]?.stringValue.map { keys.keys[$0].map { [$0] } ?? [] } ?? Array(keys.keys.values)
        let valid = candidates.contains { key in
            switch (key, header["alg"]?.stringValue) {
            case (.rsa(let publicKey), "RS256"):
                return publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signed),
                                                  padding: .insecurePKCS1v1_5)
            case (.p256(let raw), "ES256"):
                guard let publicKey = try? P256.Signing.PublicKey(rawRepresentation: raw),
                      let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
                return publicKey.isValidSignature(ecdsa, for: SHA256.hash(data: signed))
            default:
                return false
            }
        }
        guard valid else { return .failure(.init(description: "signature not valid for any key of the JWKS")) }
        guard let tokenIssuer = claims["iss"]?.stringValue, tokenIssuer == issuer || otherIssuers.contains(tokenIssuer) else {
            return .failure(.init(description: "issuer is not \(([issuer] + otherIssuers).joined(separator: " or "))"))
        }
        if requiresExpiry, claims["exp"]?.doubleValue == nil { return .failure(.init(description: "no exp")) }
        let audience = (claims["aud"].map { $0.arrayValue ?? [$0] } ?? claims["client_id"].map { [$0] } ?? []).compactMap(\.stringValue)
        guard audiences.isEmpty || audience.contains(where: audiences.contains) else { return .failure(.init(description: "audience not accepted")) }
        let seconds = now.timeIntervalSince1970
        if let expiry = claims["exp"]?.doubleValue, expiry <= seconds { return .failure(.init(description: "expired")) }
        if let notBefore = claims["nbf"]?.doubleValue, notBefore > seconds { return .failure(.init(description: "not yet valid")) }
        let scopes = (claims["scope"]?.stringValue ?? claims["scp"]?.stringValue)?.split(separator: " ").map { JSONValue.string(String($0)) }
        return .success(.object(["claims": .object(claims), "scopes": scopes.map(JSONValue.array) ?? .null]))
    }
}
