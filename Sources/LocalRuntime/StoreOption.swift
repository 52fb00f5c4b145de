import ArgumentParser
import DynamoDBStore
import Handlers
import SQLiteStore

/// Where `serve` keeps state: the embedded SQLite file, or DynamoDB as deployed, so that a session
/// can be run locally against the same store code the Lambda functions use.
enum StoreOption: String, ExpressibleByArgument, CaseIterable, Sendable {
    case sqlite
    case dynamodb

    /// Opens the store. DynamoDB reads `TABLE_NAME` (default `ChatStateTable`), AWS credentials and
    /// region from the environment, and `DYNAMODB_ENDPOINT` for a local server such as moto or
    /// DynamoDB Local, where the table is created when missing: no stack creates it there.
    func open(statePath: String, environment: [String: String]) async throws -> any Store {
        switch self {
        case .sqlite:
            return try SQLiteStore(.file(statePath))
        case .dynamodb:
            var environment = environment
            if environment["TABLE_NAME", default: ""].isEmpty { environment["TABLE_NAME"] = "ChatStateTable" }
            let store = try DynamoDBStore(environment: environment)
            if !environment["DYNAMODB_ENDPOINT", default: ""].isEmpty { try await store.createTableIfMissing() }
            return store
        }
    }
}
