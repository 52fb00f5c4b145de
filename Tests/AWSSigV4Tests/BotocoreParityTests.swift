import AWSSigV4
import Foundation
import Testing

/// One request of the parity table, signed by both implementations.
struct SigningCase: Codable, Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    /// Scheme, host and path, percent-encoded as they go on the wire; the query comes from `params`.
    var url: String
    /// Raw (unencoded) query pairs: botocore encodes them itself, the Swift side gets them in the URL.
    var params: [[String]] = []
    var headers: [[String]] = []
    var body = ""
    var unsigned = false
    var accessKey = "AKIDEXAMPLE"
    var secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    var sessionToken: String?
    var region = "us-east-1"
    var service = "dynamodb"
    var epoch: Int = 1_700_000_000

    var testDescription: String { name }

    enum CodingKeys: String, CodingKey {
        case name, method, url, params, headers, body, unsigned, region, service, epoch
        case accessKey = "access_key", secretKey = "secret_key", sessionToken = "session_token"
    }

    /// The URL a client would send: query items encoded by Foundation, which leaves `+`, `*`, `'`
    /// `(`, `)`, `!`, `/`, `:` and `@` as they are, so the signer has to canonicalise them.
    var wireURL: String {
        guard !params.isEmpty, var components = URLComponents(string: url) else { return url }
        components.queryItems = params.map { URLQueryItem(name: $0[0], value: $0[1]) }
        return components.string ?? url
    }
}

let signingCases: [SigningCase] = [
    SigningCase(name: "GET with no query and no body", method: "GET", url: "https://dynamodb.us-east-1.amazonaws.com/"),
    SigningCase(name: "DynamoDB POST with a JSON body and temporary credentials", method: "POST",
                url: "https://dynamodb.eu-west-1.amazonaws.com/",
                headers: [["Content-Type", "application/x-amz-json-1.0"], ["X-Amz-Target", "DynamoDB_20120810.GetItem"]],
                body: #"{"TableName":"chat","Key":{"pk":{"S":"WIDGET#w"},"sk":{"S":"CONFIG"}},"ConsistentRead":true}"#,
                sessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIHtoken+/=", region: "eu-west-1"),
    SigningCase(name: "GET whose query needs encoding, sorting and repeated keys", method: "GET",
                url: "https://example.execute-api.us-west-2.amazonaws.com/dev/items",
                params: [["Param2", "value2"], ["Param1", "value 1/ü"], ["b", "*'()!+"], ["a", "~tilde._-"],
                         ["empty", ""], ["k", "2"], ["k", "1"], ["email", "user@example.com"], ["time", "12:30"]],
                region: "us-west-2", service: "execute-api"),
    SigningCase(name: "@connections POST: encoded id, '@' in the path, session token", method: "POST",
                url: "https://abc123.execute-api.eu-central-1.amazonaws.com/dev/@connections/IU3kkeN4IAMCJwA%3D",
                headers: [["Content-Type", "application/json"]], body: #"{"type":"message","content":"hi"}"#,
                sessionToken: "FwoGZXIvYXdzEB4aDToken", region: "eu-central-1", service: "execute-api"),
    SigningCase(name: "path segments with spaces and Unicode are encoded twice", method: "GET",
                url: "https://example.amazonaws.com/a%20b/caf%C3%A9/x+y/%7Etilde/semi;colon:"),
    SigningCase(name: "dot segments and repeated slashes are normalised", method: "GET",
                url: "https://example.amazonaws.com/a/./b/../c//d/"),
    SigningCase(name: "unsigned payload over https", method: "PUT", url: "https://example.amazonaws.com/upload",
                body: "streamed body", unsigned: true, service: "execute-api"),
    SigningCase(name: "non-default port on a loopback endpoint", method: "POST", url: "http://127.0.0.1:8000/",
                headers: [["Content-Type", "application/x-amz-json-1.0"], ["X-Amz-Target", "DynamoDB_20120810.Query"]],
                body: "{}", accessKey: "test", secretKey: "test"),
    SigningCase(name: "default port dropped from Host", method: "GET", url: "https://Example.AmazonAWS.com:443/path"),
    SigningCase(name: "header values trimmed, repeated headers joined, user-agent unsigned", method: "POST",
                url: "https://example.amazonaws.com/",
                headers: [["X-Custom", "  a   b\tc  "], ["x-multi", "one"], ["X-Multi", "two"], ["User-Agent", "swift/6"],
                          ["Content-Type", "text/plain; charset=utf-8"]],
                body: "ünïcödé body", epoch: 1_234_567_890),
]

@Suite("SigV4 matches botocore")
struct BotocoreParityTests {
    @Test("the Authorization header equals botocore's SigV4Auth", arguments: signingCases)
    func sameAuthorization(_ signing: SigningCase) async throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyId: signing.accessKey, secretAccessKey: signing.secretKey,
                                        sessionToken: signing.sessionToken),
            region: signing.region, service: signing.service)
        let request = SignableRequest(method: signing.method, url: signing.wireURL,
                                      headers: signing.headers.map { (name: $0[0], value: $0[1]) }, body: Array(signing.body.utf8))
        let signed = try signer.sign(request, at: Date(timeIntervalSince1970: TimeInterval(signing.epoch)),
                                     payload: signing.unsigned ? .unsigned : .signed)
        let expected = try #require(try Botocore.authorizations.get()[signing.name])
        #expect(signed.values(of: "authorization") == [expected])
    }

    @Test("temporary credentials travel in X-Amz-Security-Token, replacing an earlier value")
    func sessionTokenHeader() throws {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AK", secretAccessKey: "SK", sessionToken: "token-2"),
                                 region: "us-east-1", service: "dynamodb")
        let request = SignableRequest(method: "POST", url: "https://dynamodb.us-east-1.amazonaws.com/",
                                      headers: [(name: "x-amz-security-token", value: "token-1")])
        let signed = try signer.sign(request, at: Date(timeIntervalSince1970: 0))
        #expect(signed.values(of: "X-Amz-Security-Token") == ["token-2"])
        #expect(signed.values(of: "X-Amz-Date") == ["19700101T000000Z"])
        #expect(signed.values(of: "Host") == ["dynamodb.us-east-1.amazonaws.com"])
    }

    @Test("signing a signed request again replaces its Authorization header")
    func resigning() throws {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AK", secretAccessKey: "SK"),
                                 region: "us-east-1", service: "dynamodb")
        let request = SignableRequest(method: "GET", url: "https://dynamodb.us-east-1.amazonaws.com/")
        let first = try signer.sign(request, at: Date(timeIntervalSince1970: 0))
        let second = try signer.sign(first, at: Date(timeIntervalSince1970: 60))
        #expect(second.values(of: "Authorization").count == 1)
        #expect(second.values(of: "X-Amz-Date") == ["19700101T000100Z"])
        #expect(second.values(of: "Authorization") != first.values(of: "Authorization"))
    }

    @Test("a URL without a host is refused", arguments: ["/relative/path", "not a url", "ftp://example.com/"])
    func invalidURL(_ url: String) {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AK", secretAccessKey: "SK"),
                                 region: "us-east-1", service: "dynamodb")
        let error = #expect(throws: SigV4Signer.InvalidURL.self) {
            try signer.sign(SignableRequest(method: "GET", url: url), at: Date())
        }
        #expect(error?.url == url)
    }
}

/// botocore, run once in Python for the whole table: the reference implementation.
enum Botocore {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("botocore_sigv4.py")

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// botocore's Authorization header for each case, by case name.
    static let authorizations = Result { try run(signingCases) }

    private static func run(_ cases: [SigningCase]) throws -> [String: String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: JSONEncoder().encode(["cases": cases]))
        try input.fileHandleForWriting.close()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let headers = try? JSONDecoder().decode([String].self, from: stdout),
              headers.count == cases.count else {
            throw Failed(description: "botocore_sigv4.py failed (is botocore installed? scripts/install-deps installs it): "
                + String(decoding: stderr, as: UTF8.self))
        }
        return Dictionary(uniqueKeysWithValues: zip(cases.map(\.name), headers))
    }
}
