/// The key schema of the store's one table: what template.json declares as `ChatStateTable`, and
/// what `DynamoDBStore.createTable()` creates on a local endpoint. A test holds the two to each other.
public struct TableDefinition: Codable, Sendable, Equatable {
    public struct Attribute: Codable, Sendable, Equatable {
        public var attributeName: String
        public var attributeType: String

        enum CodingKeys: String, CodingKey {
            case attributeName = "AttributeName", attributeType = "AttributeType"
        }
    }

    public struct KeyElement: Codable, Sendable, Equatable {
        public var attributeName: String
        public var keyType: String

        enum CodingKeys: String, CodingKey {
            case attributeName = "AttributeName", keyType = "KeyType"
        }
    }

    public struct Projection: Codable, Sendable, Equatable {
        public var projectionType: String
        public var nonKeyAttributes: [String]?

        enum CodingKeys: String, CodingKey {
            case projectionType = "ProjectionType", nonKeyAttributes = "NonKeyAttributes"
        }
    }

    public struct GlobalSecondaryIndex: Codable, Sendable, Equatable {
        public var indexName: String
        public var keySchema: [KeyElement]
        public var projection: Projection

        enum CodingKeys: String, CodingKey {
            case indexName = "IndexName", keySchema = "KeySchema", projection = "Projection"
        }
    }

    public var attributeDefinitions: [Attribute]
    public var keySchema: [KeyElement]
    public var globalSecondaryIndexes: [GlobalSecondaryIndex]

    enum CodingKeys: String, CodingKey {
        case attributeDefinitions = "AttributeDefinitions", keySchema = "KeySchema"
        case globalSecondaryIndexes = "GlobalSecondaryIndexes"
    }

    /// `pk`/`sk` strings for every item; `gsi2` over `gsi2pk`/`gsi2sk` for reading security events
    /// newest first across all widgets, holding only what listings filter on, so that counting
    /// into an event writes the table alone; and `gsi1`, the index of earlier layouts
    /// (`ItemLayout`), still read until TTL has removed what it holds.
    public static let chatState = TableDefinition(
        attributeDefinitions: [ItemLayout.partitionKey, ItemLayout.sortKey, ItemLayout.indexPartitionKey, ItemLayout.indexSortKey,
                               ItemLayout.eventIndexPartitionKey, ItemLayout.eventIndexSortKey]
            .map { Attribute(attributeName: $0, attributeType: "S") },
        keySchema: [KeyElement(attributeName: ItemLayout.partitionKey, keyType: "HASH"),
                    KeyElement(attributeName: ItemLayout.sortKey, keyType: "RANGE")],
        globalSecondaryIndexes: [
            GlobalSecondaryIndex(
                indexName: ItemLayout.index,
                keySchema: [KeyElement(attributeName: ItemLayout.indexPartitionKey, keyType: "HASH"),
                            KeyElement(attributeName: ItemLayout.indexSortKey, keyType: "RANGE")],
                projection: Projection(projectionType: "ALL")),
            GlobalSecondaryIndex(
                indexName: ItemLayout.eventIndex,
                keySchema: [KeyElement(attributeName: ItemLayout.eventIndexPartitionKey, keyType: "HASH"),
                            KeyElement(attributeName: ItemLayout.eventIndexSortKey, keyType: "RANGE")],
                projection: Projection(projectionType: "INCLUDE", nonKeyAttributes: ItemLayout.eventIndexAttributes)),
        ]
    )

    /// The TTL attribute: epoch seconds after which DynamoDB deletes the item.
    public static let timeToLiveAttribute = ItemLayout.expiresAt
}

/// CreateTable's request: the definition plus the table's name and on-demand billing.
struct CreateTableRequest: Encodable, Sendable {
    var tableName: String
    var definition: TableDefinition

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", billingMode = "BillingMode"
    }

    func encode(to encoder: any Encoder) throws {
        try definition.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tableName, forKey: .tableName)
        try container.encode("PAY_PER_REQUEST", forKey: .billingMode)
    }
}

/// UpdateTimeToLive's request.
struct TimeToLiveRequest: Encodable, Sendable {
    var tableName: String
    var attributeName: String

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", specification = "TimeToLiveSpecification"
    }

    enum SpecificationKeys: String, CodingKey {
        case attributeName = "AttributeName", enabled = "Enabled"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tableName, forKey: .tableName)
        var specification = container.nestedContainer(keyedBy: SpecificationKeys.self, forKey: .specification)
        try specification.encode(attributeName, forKey: .attributeName)
        try specification.encode(true, forKey: .enabled)
    }
}
