import ArgumentParser
import DynamoDBStore
import Foundation
import Handlers
import SQLiteStore

/// Where `serve` keeps state: the embedded SQLite file, or DynamoDB as deployed, so that a session
/// can be run locally against the same store code the Lambda functions use.
enum StoreOption: String, ExpressibleByArgument, CaseIterable, Sendable {
    case sqlite
    case dynamodb

    /// The store could not be opened; `description` is the one line start-up prints.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens the store. DynamoDB reads `TABLE_NAME` (default `ChatStateTable`), credentials, region
    /// and endpoint the way the AWS SDKs do (`DynamoDBStore(environment:)`), and is probed once with
    /// a short timeout: a store that cannot be reached fails start-up at once, saying where and why,
    /// instead of every request retrying into it. On an endpoint the environment names (moto,
    /// DynamoDB Local) a missing table is created, since no stack creates it there; on AWS's own
    /// endpoint a missing table is an error.
    func open(statePath: String, environment: [String: String]) async throws -> any Store {
        switch self {
        case .sqlite:
            return try SQLiteStore(.file(statePath))
        case .dynamodb:
            var environment = environment
            if environment["TABLE_NAME", default: ""].isEmpty { environment["TABLE_NAME"] = "ChatStateTable" }
            let store: DynamoDBStore
            do {
                store = try DynamoDBStore(environment: environment)
            } catch {
                throw Unavailable(description: "local-runtime: cannot use DynamoDB: \(error)")
            }
            let isLocal = DynamoDBStore.configuredEndpoint(environment) != nil
            do {
                if try await !store.tableExists() {
                    guard isLocal else {
                        throw Unavailable(description: "local-runtime: DynamoDB at \(store.endpoint) has no table \(store.tableName) (TABLE_NAME)")
                    }
                    try await store.createTableIfMissing()
                }
            } catch let error as Unavailable {
                throw error
            } catch {
                throw Unavailable(description: "local-runtime: DynamoDB at \(store.endpoint) cannot be reached: \(error)")
            }
            return store
        }
    }

    /// `open`, with a store that cannot be opened reported as one line on standard error and exit status 1.
    func openOrExplain(statePath: String, environment: [String: String]) async throws -> any Store {
        do {
            return try await open(statePath: statePath, environment: environment)
        } catch let error as Unavailable {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
