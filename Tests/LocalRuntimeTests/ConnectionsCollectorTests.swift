import Foundation
import Handlers
import ManagementAPIClient
import Testing

@testable import LocalRuntime

/// Replay's `@connections` endpoint, posted to by the deployed `HTTPConnectionPoster` as a
/// `bootstrap` process does, answers as the stage's management API does.
@Suite struct ConnectionsCollectorTests {
    @Test("a post to an open connection within 128 KB is collected")
    func collects() async throws {
        let poster = CollectingPoster(tracksConnections: true)
        poster.open("open/+=")
        try await ConnectionsCollector.run(stageName: "local", poster: poster) { endpoint in
            try await HTTPConnectionPoster().post(Array(repeating: 0x61, count: 128 * 1024), to: "open/+=", endpoint: endpoint)
        }
        #expect(poster.drain().map { "\($0.connectionId) \($0.data.count)" } == ["open/+= 131072"])
    }

    @Test("a post to a connection that is not open gets 410 GoneException")
    func gone() async throws {
        let poster = CollectingPoster(tracksConnections: true)
        poster.open("open=")
        try await ConnectionsCollector.run(stageName: "local", poster: poster) { endpoint in
            await #expect(throws: ConnectionGoneError.self) {
                try await HTTPConnectionPoster().post(Array("hi".utf8), to: "unknown=", endpoint: endpoint)
            }
        }
        poster.close("open=")
        await #expect(throws: ConnectionGoneError.self) { try await poster.post(Array("hi".utf8), to: "open=", endpoint: "local") }
        #expect(poster.drain().isEmpty)
    }

    @Test("a post above 128 KB gets 413 PayloadTooLargeException")
    func tooLarge() async throws {
        let poster = CollectingPoster(tracksConnections: true)
        poster.open("open=")
        try await ConnectionsCollector.run(stageName: "local", poster: poster) { endpoint in
            do {
                try await HTTPConnectionPoster().post(Array(repeating: 0x61, count: 128 * 1024 + 1), to: "open=", endpoint: endpoint)
                Issue.record("an oversized post was accepted")
            } catch let failed as HTTPConnectionPoster.PostFailed {
                #expect(failed.status == 413)
                #expect(failed.errorType == "PayloadTooLargeException")
            }
        }
        #expect(poster.drain().isEmpty)
    }
}
