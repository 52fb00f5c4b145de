/// The parameters of the item operations this store uses (GetItem, PutItem, UpdateItem, DeleteItem,
/// Query): one shape, of which each call sets the members its operation takes. Unset members are
/// not sent, as DynamoDB rejects empty expression maps.
struct ItemRequest: Encodable, Sendable {
    var tableName: String
    var indexName: String?
    var key, item: Item?
    var updateExpression, conditionExpression, keyConditionExpression, filterExpression: String?
    var expressionAttributeNames: [String: String]?
    var expressionAttributeValues: Item?
    var returnValues, returnValuesOnConditionCheckFailure: String?
    var consistentRead, scanIndexForward: Bool?
    var limit: Int?
    var exclusiveStartKey: Item?

    init(table: String) {
        tableName = table
    }

    /// Names and values for the placeholders of every expression of the request.
    func with(names: [String: String] = [:], values: Item = [:]) -> ItemRequest {
        var request = self
        request.expressionAttributeNames = names.isEmpty ? nil : names
        request.expressionAttributeValues = values.isEmpty ? nil : values
        return request
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", indexName = "IndexName", key = "Key", item = "Item"
        case updateExpression = "UpdateExpression", conditionExpression = "ConditionExpression"
        case keyConditionExpression = "KeyConditionExpression", filterExpression = "FilterExpression"
        case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
        case returnValues = "ReturnValues", returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
        case consistentRead = "ConsistentRead", scanIndexForward = "ScanIndexForward", limit = "Limit"
        case exclusiveStartKey = "ExclusiveStartKey"
    }
}

/// What the item operations answer: `Item` (GetItem), `Attributes` (UpdateItem, DeleteItem with
/// ReturnValues), `Items` and `LastEvaluatedKey` (Query).
struct ItemResponse: Decodable, Sendable {
    var item: Item?
    var attributes: Item?
    var items: [Item]?
    var lastEvaluatedKey: Item?

    enum CodingKeys: String, CodingKey {
        case item = "Item", attributes = "Attributes", items = "Items", lastEvaluatedKey = "LastEvaluatedKey"
    }
}

/// TransactWriteItems: puts and deletes that succeed or fail together.
struct TransactWriteRequest: Encodable, Sendable {
    enum Action: Encodable, Sendable {
        case put(ItemRequest)
        case delete(ItemRequest)

        enum CodingKeys: String, CodingKey {
            case put = "Put", delete = "Delete"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .put(let request): try container.encode(request, forKey: .put)
            case .delete(let request): try container.encode(request, forKey: .delete)
            }
        }
    }

    var transactItems: [Action]

    enum CodingKeys: String, CodingKey {
        case transactItems = "TransactItems"
    }
}

/// A response whose content does not matter, only that the call succeeded.
struct EmptyResponse: Decodable, Sendable {}

/// BatchGetItem's request: keys of one table, read with one consistency.
struct BatchGetRequest: Encodable, Sendable {
    struct Keys: Codable, Sendable {
        var keys: [Item]
        var consistentRead: Bool?

        enum CodingKeys: String, CodingKey {
            case keys = "Keys", consistentRead = "ConsistentRead"
        }
    }

    var requestItems: [String: Keys]

    enum CodingKeys: String, CodingKey {
        case requestItems = "RequestItems"
    }
}

/// BatchGetItem's answer: the items found, by table, and the keys left for another request.
struct BatchGetResponse: Decodable, Sendable {
    var responses: [String: [Item]]
    var unprocessedKeys: [String: BatchGetRequest.Keys]

    enum CodingKeys: String, CodingKey {
        case responses = "Responses", unprocessedKeys = "UnprocessedKeys"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        responses = try container.decodeIfPresent([String: [Item]].self, forKey: .responses) ?? [:]
        unprocessedKeys = try container.decodeIfPresent([String: BatchGetRequest.Keys].self, forKey: .unprocessedKeys) ?? [:]
    }
}
