import Crypto
import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("what serve --record writes as a fixture's expectation")
struct RecordedExpectationTests {
    @Test("the status and the body's stable part: ids, timestamps, tokens and lists left out")
    func stablePart() throws {
        let response = try JSONValue(parsing: Data(#"{"statusCode":201,"body":"{\"widget\":{\"widget_id\":\"w1\",\"name\":\"Shop\",\"createdAt\":\"x\",\"allowed_domains\":[\"a\"]},\"conversation_token\":\"t\",\"ok\":true}"}"#.utf8))
        #expect(RecordedExpectation.document(response: response, errorType: nil)
                == .object(["statusCode": .number(201), "body": .object(["widget": .object(["name": .string("Shop")]), "ok": .bool(true)])]))
    }

    @Test("a failed invocation expects its error type")
    func failure() {
        #expect(RecordedExpectation.document(response: nil, errorType: "Sandbox.Timedout") == .object(["errorType": .string("Sandbox.Timedout")]))
    }

    @Test("a token of the live secret is signed again with the replay secret; any other is not kept")
    func resigning() throws {
        let resigner = AdminTokenResigner(liveSecret: "live-secret", replaySecret: "replay-secret")
        func token(_ secret: String) -> String {
            let signed = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0"
            let code = HMAC<SHA256>.authenticationCode(for: Data(signed.utf8), using: SymmetricKey(data: Data(secret.utf8)))
            return signed + "." + Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        #expect(resigner.resign(authorization: "Bearer \(token("live-secret"))") == "Bearer \(token("replay-secret"))")
        #expect(resigner.resign(authorization: "Bearer \(token("someone-else"))") == nil)
        let event = Array(#"{"headers":{"Authorization":"Bearer \#(token("someone-else"))"}}"#.utf8)
        #expect(try JSONValue(parsing: EventRecorder.redactingCredentials(event, resigner: resigner))["headers"]?["Authorization"] == .string("REDACTED"))
    }
}
