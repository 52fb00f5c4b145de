import AWSSigV4
import DynamoDBStore
import Foundation
import ManagementAPIClient
import Testing
import TestSupport

/// Requests as the HTTP client really sends them, checked by an endpoint that verifies SigV4 the way
/// AWS does (botocore re-signing what it received): nothing the client adds or rewrites in transit
/// may break the signature.
@Suite("Signed requests verify on the wire")
struct SignedOnTheWireTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    func signer(service: String, secret: String = Self.secret) -> SigV4Signer {
        SigV4Signer(credentials: AWSCredentials(accessKeyId: "ASIAEXAMPLE", secretAccessKey: secret, sessionToken: "session/token+="),
                    region: "eu-west-1", service: service)
    }

    @Test("@connections posts signed for execute-api are accepted")
    func connectionPost() async throws {
        try await SigV4Verifier.run(secret: Self.secret) { url in
            let poster = HTTPConnectionPoster(signingWith: signer(service: "execute-api"))
            try await poster.post(Array(#"{"type":"message","content":"hello"}"#.utf8), to: "IU3kkeN4IAMCJwA=", endpoint: "\(url)/dev")
        }
    }

    @Test("a post signed with the wrong secret is refused with 403")
    func wrongSecret() async throws {
        try await SigV4Verifier.run(secret: Self.secret) { url in
            let poster = HTTPConnectionPoster(signingWith: signer(service: "execute-api", secret: "not-the-secret"))
            let error = await #expect(throws: HTTPConnectionPoster.PostFailed.self) {
                try await poster.post(Array("{}".utf8), to: "IU3kkeN4IAMCJwA=", endpoint: "\(url)/dev")
            }
            #expect(error?.status == 403)
            #expect(error?.errorType == "InvalidSignatureException")
        }
    }

    @Test("DynamoDB requests signed by the store are accepted")
    func dynamoDBRequest() async throws {
        try await SigV4Verifier.run(secret: Self.secret) { url throws in
            let store = DynamoDBStore(tableName: "chat", endpoint: url, signer: signer(service: "dynamodb"))
            #expect(try await store.widget(id: "widget_signed_000001") == nil)
        }
    }
}

/// Runs sigv4_verifier.py on a free loopback port for the duration of `body`.
enum SigV4Verifier {
    static func run(secret: String, _ body: (String) async throws -> Void) async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("sigv4_verifier.py")
        try await PythonHelper.run(script: script, arguments: [secret], body)
    }
}
