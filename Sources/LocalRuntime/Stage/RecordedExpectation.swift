import Crypto
import Foundation
import Handlers

/// What a recorded invocation answered, written beside its fixture as `NNNN-name.expected.json`
/// so that a replay checks it: the status (or the invocation error's type) and the JSON body's
/// stable part. Fields that differ on every run (ids, timestamps, tokens) and lists (whose length
/// depends on state from before the recording) are left out; replay checks the body as a subset.
enum RecordedExpectation {
    /// The expectation document for a response, or for a failed invocation's error type.
    static func document(response: JSONValue?, errorType: String?) -> JSONValue {
        if let errorType { return .object(["errorType": .string(errorType)]) }
        guard let response else { return .object([:]) }
        var expectation: [String: JSONValue] = ["statusCode": .number(Double(response["statusCode"]?.intValue ?? 200))]
        if let text = response["body"]?.stringValue, case .object? = try? JSONValue(parsing: Array(text.utf8)),
           let body = try? JSONValue(parsing: Array(text.utf8)), let stable = stablePart(of: body) {
            expectation["body"] = stable
        }
        return .object(expectation)
    }

    /// `expectation` without its body's human-readable `message`.
    static func withoutMessage(_ expectation: JSONValue) -> JSONValue {
        guard case .object(var members) = expectation, case .object(var body)? = members["body"] else { return expectation }
        body["message"] = nil
        members["body"] = body.isEmpty ? nil : .object(body)
        return .object(members)
    }

    /// `value` without volatile fields and lists; nil when nothing stable is left.
    static func stablePart(of value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let members):
            let kept = members.filter { !isVolatile($0.key) }.compactMapValues(stablePart(of:))
            return kept.isEmpty ? nil : .object(kept)
        case .array:
            return nil
        default:
            return value
        }
    }

    /// Names of fields that take a new value on every run.
    static func isVolatile(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "id" || name.hasSuffix("Id") || lower.hasSuffix("_id") || name.hasSuffix("At") || lower.hasSuffix("_at")
            || lower.contains("time") || lower.contains("date") || lower.hasSuffix("token") || lower == "expires" || lower == "etag"
    }
}

/// Admin tokens in recorded events, made replayable without recording a credential: a token the
/// stage's own secret verifies is signed again, same header and claims, with the public replay
/// secret (`LocalAdminSecret.replay`) that `replay` verifies with. The recorded token is then only
/// good where that public secret is configured, and the live secret never reaches a fixture.
struct AdminTokenResigner: Sendable {
    let liveSecret: String
    let replaySecret: String

    /// `Bearer <token signed again>`, or nil when the value is not an HS256 token of the live secret.
    func resign(authorization value: String) -> String? {
        let token = value.hasPrefix("Bearer ") ? String(value.dropFirst("Bearer ".count)) : value
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = JSONWebKeySet.base64URL(parts[2]) else { return nil }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: SymmetricKey(data: Data(liveSecret.utf8))) else {
            return nil
        }
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(replaySecret.utf8)))
        return "Bearer \(parts[0]).\(parts[1]).\(Base64.encodeURL(Array(code)))"
    }
}
