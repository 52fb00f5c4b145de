import AWSSigV4
import DynamoDBStore
import Foundation
import Handlers
import SQLiteStore
import Testing

/// Every Store implementation; each conformance test runs against all of them.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqliteInMemory = "SQLite in memory"
    case sqliteFile = "SQLite file"
    case dynamoDB = "DynamoDB (moto_server)"

    var testDescription: String { rawValue }

    /// Where the DynamoDB stores of this run live: scripts/test starts `moto_server` on a free
    /// loopback port and passes its URL here.
    static let dynamoDBEndpointVariable = "DYNAMODB_TEST_ENDPOINT"

    /// Runs `body` with a fresh, empty store of this kind: a new database or a new table.
    func withStore(_ body: (any Store) async throws -> Void) async throws {
        switch self {
        case .sqliteInMemory:
            try await body(SQLiteStore(.inMemory))
        case .sqliteFile:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID()).sqlite").path
            defer {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            try await body(SQLiteStore(.file(path)))
        case .dynamoDB:
            guard let endpoint = ProcessInfo.processInfo.environment[Self.dynamoDBEndpointVariable], !endpoint.isEmpty else {
                Issue.record("\(Self.dynamoDBEndpointVariable) is not set: scripts/test starts moto_server and sets it")
                return
            }
            let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing"),
                                     region: "us-east-1", service: "dynamodb")
            let store = DynamoDBStore(tableName: "conformance-\(UUID().uuidString.lowercased())", endpoint: endpoint, signer: signer)
            try await store.createTableIfMissing()
            try await body(store)
        }
    }
}

/// Whole seconds (and halves), exactly representable, so that records compare equal after a round trip.
let epoch = Date(timeIntervalSince1970: 1_750_000_000)

func widget(_ id: String, domains: [String] = [], active: Bool = true, name: String = "Widget") -> WidgetConfig {
    WidgetConfig(widgetId: id, name: name, allowedDomains: domains, isActive: active,
                 settings: WidgetSettings(greeting: "Hello", knowledge: [KnowledgeEntry(question: "Q?", answer: "A.")],
                                          colors: ["primary": "#000000"]),
                 createdAt: epoch)
}
