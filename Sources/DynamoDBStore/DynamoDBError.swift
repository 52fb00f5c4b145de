import Handlers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// DynamoDB refused a request: its error type (`ResourceNotFoundException`, ...) and message, as
/// DynamoDB wrote them, with the operation that failed.
public struct DynamoDBError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var status: Int
    /// The part of `__type` after `#`, e.g. `ConditionalCheckFailedException`.
    public var type: String
    public var message: String
    /// The item as it was, when a failed condition asked for it (`ReturnValuesOnConditionCheckFailure`).
    var item: Item?
    /// Why each action of a cancelled transaction failed (`ConditionalCheckFailed`, `TransactionConflict`, `None`).
    var cancellationReasons: [String]

    public var description: String { "DynamoDB \(operation) failed with \(status) \(type): \(message)" }

    var isConditionalCheckFailed: Bool { type == "ConditionalCheckFailedException" }

    /// Refused for capacity before anything was written: always safe to send again.
    var isThrottling: Bool {
        ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"].contains(type)
            || cancellationReasons.contains("ThrottlingError")
            || cancellationReasons.contains("ProvisionedThroughputExceeded")
    }

    /// The outcome is unknown (DynamoDB's side failed): safe to send again only when the request is idempotent.
    var isServerFault: Bool { status >= 500 }

    /// Decodes DynamoDB's error body: `{"__type": "com.amazonaws.dynamodb.v20120810#Type", "message": "..."}`.
    init(operation: String, status: Int, body: [UInt8]) {
        struct Body: Decodable {
            var type: String?
            var message: String?
            var capitalMessage: String?
            var item: Item?
            var cancellationReasons: [Reason]?

            struct Reason: Decodable {
                var code: String?
                enum CodingKeys: String, CodingKey { case code = "Code" }
            }

            enum CodingKeys: String, CodingKey {
                case type = "__type", message, capitalMessage = "Message", item = "Item", cancellationReasons = "CancellationReasons"
            }
        }
        let decoded = try? JSONDecoder().decode(Body.self, from: Data(body))
        self.operation = operation
        self.status = status
        type = decoded?.type.map { String($0.split(separator: "#").last ?? Substring($0)) } ?? "HTTP\(status)"
        message = decoded?.message ?? decoded?.capitalMessage ?? String(decoding: body.prefix(512), as: UTF8.self)
        item = decoded?.item
        cancellationReasons = decoded?.cancellationReasons?.map { $0.code ?? "None" } ?? []
    }
}

/// DynamoDB answered with something that is not the JSON its API documents.
public struct DynamoDBResponseError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var detail: String

    public var description: String { "DynamoDB \(operation) returned an unreadable response: \(detail)" }
}
