import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Signs HTTP requests with AWS Signature Version 4 for one service in one region: the `Authorization`
/// header that DynamoDB's API and the API Gateway `@connections` API require.
///
/// Covers every service except S3, whose paths are encoded once and whose payload rules differ.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    /// The signing name: `dynamodb`, `execute-api`, ...
    public var service: String

    /// What the signature covers of the body.
    public enum Payload: Sendable {
        /// The SHA-256 of the body: tampering with it in transit breaks the signature.
        case signed
        /// `UNSIGNED-PAYLOAD`, for bodies streamed before they are complete; sent as `X-Amz-Content-SHA256`.
        case unsigned
    }

    /// The URL cannot be signed: it has no host or is not a URL at all.
    public struct InvalidURL: Error, Equatable, CustomStringConvertible {
        public var url: String
        public var description: String { "cannot sign a request to \(url): not an absolute http(s) URL" }
    }

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The signer a Lambda function uses: its role's credentials and its region, from the
    /// environment Lambda provides (`AWS_REGION`; `AWS_DEFAULT_REGION` as the CLI reads it locally).
    /// Outside Lambda, as the AWS SDKs do, the shared credentials and config files fill in what the
    /// environment leaves out (`AWSSharedFiles`).
    public init(service: String, environment: [String: String]) throws(AWSEnvironmentError) {
        let credentials = try AWSCredentials.resolve(environment: environment)
        guard let region = Self.region(environment: environment) else {
            throw AWSEnvironmentError(missing: "AWS_REGION")
        }
        self.init(credentials: credentials, region: region, service: service)
    }

    /// The request with `Host` (when absent), `X-Amz-Date`, `X-Amz-Security-Token` (with temporary
    /// credentials), `X-Amz-Content-SHA256` (for unsigned payloads) and `Authorization` set; any
    /// earlier values of these are replaced, so that a retried request can be signed again.
    public func sign(_ request: SignableRequest, at date: Date, payload: Payload = .signed) throws(InvalidURL) -> SignableRequest {
        guard let components = URLComponents(string: request.url), let scheme = components.scheme?.lowercased(),
              let host = Self.host(components, scheme: scheme)
        else { throw InvalidURL(url: request.url) }

        var signed = request
        signed.headers.removeAll { $0.name.lowercased() == "authorization" }
        if signed.values(of: "host").isEmpty { signed.headers.append((name: "Host", value: host)) }
        let timestamp = Self.timestamp(date)
        signed.set("X-Amz-Date", timestamp)
        if let token = credentials.sessionToken { signed.set("X-Amz-Security-Token", token) }
        if payload == .unsigned { signed.set("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD") }
        let payloadHash = signed.values(of: "x-amz-content-sha256").first ?? hex(SHA256.hash(data: request.body))

        let canonical = CanonicalRequest(signed, host: host, path: components.percentEncodedPath,
                                         query: components.percentEncodedQuery, payloadHash: payloadHash)
        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", timestamp, scope, hex(SHA256.hash(data: Array(canonical.text.utf8)))]
            .joined(separator: "\n")
        let signature = hex(Self.hmac(signingKey(day: day), stringToSign))
        signed.headers.append((
            name: "Authorization",
            value: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        ))
        return signed
    }

    /// The key derived for one day, region and service: the secret itself never signs anything.
    private func signingKey(day: String) -> [UInt8] {
        [region, service, "aws4_request"].reduce(Self.hmac(Array("AWS4\(credentials.secretAccessKey)".utf8), day)) {
            Self.hmac($0, $1)
        }
    }

    private static func hmac(_ key: [UInt8], _ message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: key)))
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(dateSeparator: .omitted, dateTimeSeparator: .standard,
                                               timeSeparator: .omitted, timeZone: .gmt))
    }

    /// The `Host` value the client sends: lower-case, with the port only when it is not the scheme's default.
    private static func host(_ components: URLComponents, scheme: String) -> String? {
        guard var host = components.host?.lowercased(), !host.isEmpty, scheme == "http" || scheme == "https" else { return nil }
        if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }
        if let port = components.port, port != (scheme == "https" ? 443 : 80) { host += ":\(port)" }
        return host
    }
}
