import AWSSigV4
import AsyncHTTPClient
import Handlers
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The deployed store: one DynamoDB table (`ChatStateTable` in template.json), so that stateless
/// Lambda handlers share connections, conversations, widgets, counters and security events.
///
/// Every counter operation is one conditional write — never read-modify-write — so that N
/// concurrent requests against a limit L admit exactly min(N, L), across any number of Lambdas.
/// Reads that decide something are strongly consistent; security events are read through `gsi1`,
/// which like every DynamoDB index is eventually consistent (typically well under a second).
public struct DynamoDBStore: Store {
    public let tableName: String
    /// How long conversations, security events and usage buckets live before DynamoDB's TTL
    /// deletes them (`RETENTION_DAYS`, 30 by default: SPEC §4.5, §4.6).
    public let retention: TimeInterval
    let client: DynamoDBClient

    /// A store on `endpoint` (`https://dynamodb.<region>.amazonaws.com`, or a local server's URL)
    /// signing with `signer` (service `dynamodb`).
    public init(tableName: String, endpoint: String, signer: SigV4Signer, retentionDays: Int = 30, httpClient: HTTPClient = .shared) {
        self.init(tableName: tableName, client: DynamoDBClient(endpoint: endpoint, signer: signer, transport: DynamoDBClient.http(httpClient)),
                  retentionDays: retentionDays)
    }

    init(tableName: String, client: DynamoDBClient, retentionDays: Int = 30) {
        self.tableName = tableName
        self.client = client
        retention = TimeInterval(max(1, retentionDays)) * 86_400
    }

    /// The store a Lambda function uses: table `TABLE_NAME` (template.json passes the table's name),
    /// credentials and region as the AWS SDKs find them (Lambda's environment; locally also the
    /// shared files under `AWS_PROFILE`), TTLs from `RETENTION_DAYS`, and the endpoint the SDKs would
    /// use (`configuredEndpoint`) — e.g. a local server such as moto or DynamoDB Local — or else
    /// the region's own.
    public init(environment: [String: String], httpClient: HTTPClient = .shared) throws {
        guard let table = environment["TABLE_NAME"], !table.isEmpty else { throw AWSEnvironmentError(missing: "TABLE_NAME") }
        let signer = try SigV4Signer(service: "dynamodb", environment: environment)
        let endpoint = Self.configuredEndpoint(environment) ?? Self.regionalEndpoint(signer.region)
        self.init(tableName: table, endpoint: endpoint, signer: signer,
                  retentionDays: Configuration(environment: environment).retentionDays, httpClient: httpClient)
    }

    /// The endpoint the environment sets for DynamoDB, as the AWS SDKs read it: the service's own
    /// `AWS_ENDPOINT_URL_DYNAMODB`, then `DYNAMODB_ENDPOINT` (this project's earlier name for it,
    /// kept as an alias), then the global `AWS_ENDPOINT_URL`; nil for the region's endpoint.
    public static func configuredEndpoint(_ environment: [String: String]) -> String? {
        ["AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
    }

    /// Where requests go.
    public var endpoint: String { client.endpoint }

    /// Whether the table exists, from one `DescribeTable` sent once and given up after `timeout`:
    /// how a process checks at start-up that the store can be reached at all, instead of finding
    /// out through retries on its first request. Throws what went wrong otherwise.
    public func tableExists(timeout: TimeAmount = .seconds(3), httpClient: HTTPClient = .shared) async throws -> Bool {
        let probe = DynamoDBClient(endpoint: client.endpoint, signer: client.signer, retry: RetryPolicy(maxAttempts: 1),
                                   transport: DynamoDBClient.http(httpClient, timeout: timeout))
        do {
            let _: TableDescription = try await probe.call("DescribeTable", TableName(name: tableName), idempotent: true)
            return true
        } catch let error as DynamoDBError where error.type == "ResourceNotFoundException" {
            return false
        }
    }

    static func regionalEndpoint(_ region: String) -> String {
        "https://dynamodb.\(region).amazonaws.com\(region.hasPrefix("cn-") ? ".cn" : "")"
    }

    /// Creates the table with TTL on `expires_at`, unless it exists: for local servers, where no
    /// CloudFormation stack creates it. Waits until the table is active.
    public func createTableIfMissing() async throws {
        do {
            let _: EmptyResponse = try await client.call("CreateTable", CreateTableRequest(tableName: tableName, definition: .chatState),
                                                         idempotent: false)
        } catch let error as DynamoDBError where error.type == "ResourceInUseException" {
            return
        }
        for _ in 0..<100 {
            let description = try await client.call("DescribeTable", TableName(name: tableName), idempotent: true, as: TableDescription.self)
            if description.status == "ACTIVE" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let _: EmptyResponse = try await client.call(
            "UpdateTimeToLive", TimeToLiveRequest(tableName: tableName, attributeName: ItemLayout.expiresAt), idempotent: true)
    }

    private struct TableName: Encodable {
        var name: String
        enum CodingKeys: String, CodingKey { case name = "TableName" }
    }

    private struct TableDescription: Decodable {
        var status: String
        enum CodingKeys: String, CodingKey { case table = "Table" }
        enum TableKeys: String, CodingKey { case status = "TableStatus" }
        init(from decoder: any Decoder) throws {
            status = try decoder.container(keyedBy: CodingKeys.self).nestedContainer(keyedBy: TableKeys.self, forKey: .table)
                .decode(String.self, forKey: .status)
        }
    }

    // MARK: Requests

    private func request() -> ItemRequest { ItemRequest(table: tableName) }

    private func get(_ key: Item) async throws -> Item? {
        var get = request()
        get.key = key
        get.consistentRead = true
        return try await client.call("GetItem", get, idempotent: true, as: ItemResponse.self).item
    }

    private func put(_ item: Item) async throws {
        var put = request()
        put.item = item
        let _: EmptyResponse = try await client.call("PutItem", put, idempotent: true)
    }

    /// Runs an UpdateItem returning the new item; a failed condition is a result, not an error.
    private func update(_ update: ItemRequest, idempotent: Bool) async throws -> Result<Item, ConditionFailed> {
        var update = update
        update.returnValues = "ALL_NEW"
        update.returnValuesOnConditionCheckFailure = "ALL_OLD"
        do {
            return .success(try await client.call("UpdateItem", update, idempotent: idempotent, as: ItemResponse.self).attributes ?? [:])
        } catch let error as DynamoDBError where error.isConditionalCheckFailed {
            return .failure(ConditionFailed(item: error.item))
        }
    }

    /// A failed condition, with the item as it was when DynamoDB returned it.
    private struct ConditionFailed: Error {
        var item: Item?
    }

    /// Every page of a Query, up to `limit` items when given.
    private func query(_ query: ItemRequest, limit: Int? = nil) async throws -> [Item] {
        var query = query
        var items: [Item] = []
        repeat {
            // A filter drops items after Limit counts them: filtered pages are read in larger steps.
            if let limit { query.limit = max(1, limit - items.count, query.filterExpression == nil ? 0 : 100) }
            let page = try await client.call("Query", query, idempotent: true, as: ItemResponse.self)
            items += page.items ?? []
            query.exclusiveStartKey = page.lastEvaluatedKey
        } while query.exclusiveStartKey != nil && items.count < (limit ?? .max)
        return limit.map { Array(items.prefix($0)) } ?? items
    }

    private func encodeRecord(_ value: some Encodable) throws -> AttributeValue {
        .string(String(decoding: try StoreCoding.encoder.encode(value), as: UTF8.self))
    }

    private func decodeRecord<T: Decodable>(_ type: T.Type, from item: Item) throws -> T {
        guard let json = item[ItemLayout.record]?.stringValue else {
            throw DynamoDBResponseError(operation: "read \(T.self)", detail: "item without a `record` attribute")
        }
        return try StoreCoding.decoder.decode(type, from: Data(json.utf8))
    }

    // MARK: Widgets

    /// A widget's allowed domains change together with it in one transaction, which holds at most
    /// 100 writes: the widget and 99 domains added or removed.
    public struct TooManyDomainChanges: Error, CustomStringConvertible {
        public var widgetId: String
        public var changes: Int
        public var description: String { "widget \(widgetId) changes \(changes) allowed domains at once; at most 99 can change in one write" }
    }

    public func widget(id: String) async throws -> WidgetConfig? {
        try await get(ItemLayout.widget(id)).map { try decodeRecord(WidgetConfig.self, from: $0) }
    }

    /// Writes the widget and its allowed-domain items in one transaction. The widget item carries a
    /// version, so that two concurrent writers cannot leave domain items of the loser behind.
    public func putWidget(_ widget: WidgetConfig) async throws {
        let domains = widget.isActive ? Set(widget.allowedDomains.compactMap(AllowedDomain.init).map(\.host)) : []
        let attempts = 16
        for attempt in 1...attempts {
            let old = try await get(ItemLayout.widget(widget.widgetId))
            let oldWidget = try old.map { try decodeRecord(WidgetConfig.self, from: $0) }
            let oldDomains = oldWidget.map { $0.isActive ? Set($0.allowedDomains.compactMap(AllowedDomain.init).map(\.host)) : [] } ?? []
            let version = old?["version"]?.int64Value

            var putWidget = request().with(names: ["#v": "version"], values: version.map { [":v": AttributeValue($0)] } ?? [:])
            putWidget.item = ItemLayout.widget(widget.widgetId).merging([
                ItemLayout.record: try encodeRecord(widget), "version": AttributeValue((version ?? 0) + 1),
            ]) { $1 }
            putWidget.conditionExpression = version == nil ? "attribute_not_exists(#v)" : "#v = :v"
            var actions: [TransactWriteRequest.Action] = [.put(putWidget)]
            for domain in oldDomains.subtracting(domains).sorted() {
                var delete = request()
                delete.key = ItemLayout.domain(domain, widget: widget.widgetId)
                actions.append(.delete(delete))
            }
            for domain in domains.subtracting(oldDomains).sorted() {
                var put = request()
                put.item = ItemLayout.domain(domain, widget: widget.widgetId)
                actions.append(.put(put))
            }
            guard actions.count <= 100 else { throw TooManyDomainChanges(widgetId: widget.widgetId, changes: actions.count - 1) }
            do {
                let _: EmptyResponse = try await client.call("TransactWriteItems", TransactWriteRequest(transactItems: actions), idempotent: true)
                return
            } catch let error as DynamoDBError where error.type == "TransactionCanceledException"
                && (error.cancellationReasons.contains("ConditionalCheckFailed") || error.cancellationReasons.contains("TransactionConflict")) {
                // Another writer got there first: read its version and apply this write on top.
                if attempt == attempts { throw error }
                try await Task.sleep(for: client.retry.delay(beforeRetry: attempt))
            }
        }
    }

    public func widgets(after cursor: String?, limit: Int) async throws -> [WidgetConfig] {
        guard limit > 0 else { return [] }
        var query = if let cursor {
            request().with(names: ["#pk": ItemLayout.partitionKey, "#sk": ItemLayout.sortKey],
                           values: [":pk": .string(ItemLayout.widgetsPartition), ":cursor": .string(cursor)])
        } else {
            request().with(names: ["#pk": ItemLayout.partitionKey], values: [":pk": .string(ItemLayout.widgetsPartition)])
        }
        query.keyConditionExpression = cursor == nil ? "#pk = :pk" : "#pk = :pk AND #sk > :cursor"
        query.consistentRead = true
        return try await self.query(query, limit: limit).map { try decodeRecord(WidgetConfig.self, from: $0) }
    }

    public func activeWidgetAllows(domain: String) async throws -> Bool {
        var query = request().with(names: ["#pk": ItemLayout.partitionKey], values: [":pk": .string(ItemLayout.partition("DOMAIN", domain))])
        query.keyConditionExpression = "#pk = :pk"
        query.consistentRead = true
        return try await !self.query(query, limit: 1).isEmpty
    }

    // MARK: Connections

    public func putConnection(_ connection: ConnectionRecord) async throws {
        try await put(ItemLayout.connection(connection.connectionId).merging([
            ItemLayout.record: try encodeRecord(connection), ItemLayout.expiresAt: ItemLayout.epochSeconds(connection.expiresAt),
        ]) { $1 })
    }

    public func connection(id: String) async throws -> ConnectionRecord? {
        try await get(ItemLayout.connection(id)).map { try decodeRecord(ConnectionRecord.self, from: $0) }
    }

    public func removeConnection(id: String) async throws -> ConnectionRecord? {
        var delete = request()
        delete.key = ItemLayout.connection(id)
        delete.returnValues = "ALL_OLD"
        let removed = try await client.call("DeleteItem", delete, idempotent: true, as: ItemResponse.self).attributes
        return try removed.map { try decodeRecord(ConnectionRecord.self, from: $0) }
    }

    // MARK: Conversations

    /// Takes the next number of the conversation's sequence, then writes the message under it: the
    /// order of messages is the order of appends, even when their timestamps are equal. A retried
    /// sequence update leaves a gap, which ordering does not mind.
    public func appendMessage(_ message: StoredMessage) async throws {
        let partition = ItemLayout.conversation(widget: message.widgetId, conversation: message.conversationId)
        let expiry = ItemLayout.epochSeconds(message.createdAt.addingTimeInterval(retention))
        var head = request().with(names: ["#seq": "sequence", "#ttl": ItemLayout.expiresAt], values: [":one": AttributeValue(1), ":ttl": expiry])
        head.key = ItemLayout.key(partition, "HEAD")
        head.updateExpression = "ADD #seq :one SET #ttl = :ttl"
        guard case .success(let updated) = try await update(head, idempotent: true),
              let sequence = updated["sequence"]?.int64Value else {
            throw DynamoDBResponseError(operation: "UpdateItem", detail: "no message sequence number returned")
        }
        let sequenceKey = ItemLayout.padded(sequence, width: 12)
        var item = ItemLayout.key(partition, ItemLayout.messagePrefix + sequenceKey).merging([
            ItemLayout.record: try encodeRecord(message), ItemLayout.expiresAt: expiry,
        ]) { $1 }
        if let domain = message.domain {
            item[ItemLayout.indexPartitionKey] = .string(ItemLayout.domainMessages(domain))
            item[ItemLayout.indexSortKey] = .string(ItemLayout.padded(ItemLayout.milliseconds(message.createdAt), width: 15) + "#" + sequenceKey)
        }
        try await put(item)
    }

    /// From `gsi1`, where each message with a domain is also filed under that domain, oldest first.
    public func messages(domain: String) async throws -> [StoredMessage] {
        var query = request().with(names: ["#pk": ItemLayout.indexPartitionKey], values: [":pk": .string(ItemLayout.domainMessages(domain))])
        query.indexName = ItemLayout.index
        query.keyConditionExpression = "#pk = :pk"
        return try await self.query(query).map { try decodeRecord(StoredMessage.self, from: $0) }
    }

    public func messages(widgetId: String, conversationId: String, limit: Int) async throws -> [StoredMessage] {
        guard limit > 0 else { return [] }
        var query = request().with(names: ["#pk": ItemLayout.partitionKey, "#sk": ItemLayout.sortKey], values: [
            ":pk": .string(ItemLayout.conversation(widget: widgetId, conversation: conversationId)),
            ":prefix": .string(ItemLayout.messagePrefix),
        ])
        query.keyConditionExpression = "#pk = :pk AND begins_with(#sk, :prefix)"
        query.scanIndexForward = false
        query.consistentRead = true
        return try await self.query(query, limit: limit).reversed().map { try decodeRecord(StoredMessage.self, from: $0) }
    }

    // MARK: Counters and blocks

    /// One UpdateItem: `ADD` guarded by `attribute_not_exists(#c) OR #c < :limit`. A refusal reads
    /// the count from the item DynamoDB returns with the failed condition. Never retried after an
    /// ambiguous failure: a doubled increment would make the counter inexact.
    public func increment(_ key: String, limit: Int, expiresAt: Date) async throws -> CounterOutcome {
        guard limit > 0 else { return .refused(count: 0) }
        var update = request().with(names: ["#c": "count", "#ttl": ItemLayout.expiresAt], values: [
            ":one": AttributeValue(1), ":limit": AttributeValue(limit), ":ttl": ItemLayout.epochSeconds(expiresAt),
        ])
        update.key = ItemLayout.single("COUNTER", key)
        update.updateExpression = "ADD #c :one SET #ttl = if_not_exists(#ttl, :ttl)"
        update.conditionExpression = "attribute_not_exists(#c) OR #c < :limit"
        switch try await self.update(update, idempotent: false) {
        case .success(let item): return .admitted(count: Int(item["count"]?.int64Value ?? 1))
        case .failure(let refused):
            // DynamoDB returns the old item with the failed condition; a server that does not is asked.
            let item = if let item = refused.item { item } else { try await get(update.key ?? [:]) }
            return .refused(count: Int(item?["count"]?.int64Value ?? 0))
        }
    }

    public func decrement(_ key: String) async throws {
        var update = request().with(names: ["#c": "count"], values: [":minusOne": AttributeValue(-1), ":zero": AttributeValue(0)])
        update.key = ItemLayout.single("COUNTER", key)
        update.updateExpression = "ADD #c :minusOne"
        update.conditionExpression = "#c > :zero"
        _ = try await self.update(update, idempotent: false)
    }

    /// One conditional UpdateItem: the claim succeeds when there is no previous use or it is at
    /// least `interval` old. Times are whole milliseconds.
    public func claimInterval(_ key: String, now: Date, interval: TimeInterval, expiresAt: Date) async throws -> TimeInterval? {
        let nowMs = ItemLayout.milliseconds(now)
        let intervalMs = Int64((interval * 1000).rounded())
        var update = request().with(names: ["#last": "last_ms", "#ttl": ItemLayout.expiresAt], values: [
            ":now": AttributeValue(nowMs), ":threshold": AttributeValue(nowMs - intervalMs), ":ttl": ItemLayout.epochSeconds(expiresAt),
        ])
        update.key = ItemLayout.single("INTERVAL", key)
        update.updateExpression = "SET #last = :now, #ttl = :ttl"
        update.conditionExpression = "attribute_not_exists(#last) OR #last <= :threshold"
        switch try await self.update(update, idempotent: true) {
        case .success: return nil
        case .failure(let refused):
            let item = if let item = refused.item { item } else { try await get(update.key ?? [:]) }
            let last = item?["last_ms"]?.int64Value ?? nowMs
            return TimeInterval(max(0, last + intervalMs - nowMs)) / 1000
        }
    }

    /// Extends a block, never shortens it.
    public func block(_ key: String, until: Date) async throws {
        let untilMs = ItemLayout.milliseconds(until)
        var update = request().with(names: ["#until": "until_ms", "#ttl": ItemLayout.expiresAt],
                                    values: [":until": AttributeValue(untilMs), ":ttl": ItemLayout.epochSeconds(until)])
        update.key = ItemLayout.single("BLOCK", key)
        update.updateExpression = "SET #until = :until, #ttl = :ttl"
        update.conditionExpression = "attribute_not_exists(#until) OR #until < :until"
        _ = try await self.update(update, idempotent: true)
    }

    public func blockedUntil(_ key: String, now: Date) async throws -> Date? {
        guard let until = try await get(ItemLayout.single("BLOCK", key))?["until_ms"]?.int64Value,
              until > ItemLayout.milliseconds(now) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(until) / 1000)
    }

    // MARK: Security events

    /// One UpdateItem creates the event or counts into it (`ADD`), so that a flood from one client
    /// is one item and one write a refusal. The item's `record` is the first refusal; the count and
    /// the time last seen live beside it. A refusal naming a widget id or origin the samples lack,
    /// while they have room, rewrites the record once more — at most `sampleLimit` times a sample —
    /// on the condition that nobody else did meanwhile (if somebody did, their sample is kept).
    public func recordSecurityEvent(_ event: SecurityEvent) async throws {
        var names = ["#record": ItemLayout.record, "#gpk": ItemLayout.indexPartitionKey, "#gsk": ItemLayout.indexSortKey,
                     "#ttl": ItemLayout.expiresAt, "#type": "type", "#count": ItemLayout.eventCount, "#last": ItemLayout.eventLastSeen]
        var values: Item = [
            ":record": .string(StoreCoding.json(event)),
            ":gpk": .string(ItemLayout.securityEventsPartition(forEvent: event.id)),
            ":gsk": .string(ItemLayout.padded(ItemLayout.milliseconds(event.createdAt), width: 15) + "#" + event.id),
            ":ttl": ItemLayout.epochSeconds(event.createdAt.addingTimeInterval(retention)),
            ":type": .string(event.type.rawValue),
            ":count": AttributeValue(event.count),
            ":last": AttributeValue(ItemLayout.milliseconds(event.lastSeenAt)),
        ]
        var sets = ["#record = if_not_exists(#record, :record)", "#gpk = if_not_exists(#gpk, :gpk)", "#gsk = if_not_exists(#gsk, :gsk)",
                    "#ttl = if_not_exists(#ttl, :ttl)", "#type = :type", "#last = :last"]
        for (attribute, value) in [("widget_id", event.widgetId), ("domain", event.domain)] {
            guard let value else { continue }
            names["#\(attribute)"] = attribute
            values[":\(attribute)"] = .string(value)
            sets.append("#\(attribute) = if_not_exists(#\(attribute), :\(attribute))")
        }
        var update = request().with(names: names, values: values)
        update.key = ItemLayout.securityEvent(event.id)
        update.updateExpression = "SET " + sets.joined(separator: ", ") + " ADD #count :count"
        guard case .success(let item) = try await self.update(update, idempotent: false),
              let json = item[ItemLayout.record]?.stringValue else { return }
        let first = try StoreCoding.securityEvent(json: json.utf8)
        var sampled = first
        let merged = first.merging(event)
        sampled.sampleWidgetIds = merged.sampleWidgetIds
        sampled.sampleOrigins = merged.sampleOrigins
        guard sampled != first else { return }
        var addSample = request().with(names: ["#record": ItemLayout.record],
                                       values: [":old": .string(json), ":new": .string(StoreCoding.json(sampled))])
        addSample.key = ItemLayout.securityEvent(event.id)
        addSample.updateExpression = "SET #record = :new"
        addSample.conditionExpression = "#record = :old"
        _ = try await self.update(addSample, idempotent: true)
    }

    /// The event an item holds: its first refusal's record, with the count and time last seen kept beside it.
    private func securityEvent(from item: Item) throws -> SecurityEvent {
        guard let json = item[ItemLayout.record]?.stringValue else {
            throw DynamoDBResponseError(operation: "read SecurityEvent", detail: "item without a `record` attribute")
        }
        var event = try StoreCoding.securityEvent(json: json.utf8)
        if let count = item[ItemLayout.eventCount]?.int64Value { event.count = Int(count) }
        if let last = item[ItemLayout.eventLastSeen]?.int64Value { event.lastSeenAt = Date(timeIntervalSince1970: TimeInterval(last) / 1000) }
        return event
    }

    /// Newest first from `gsi1`, from `since` on (to `until`'s millisecond, when set): each of the
    /// events' index partitions is read newest first, in parallel, and the pages merged. Type, widget
    /// and domain are filters, so pages are read until `limit` events match or none are left.
    public func securityEvents(_ query: SecurityEventQuery) async throws -> [SecurityEvent] {
        // DynamoDB refuses a BETWEEN whose bounds are reversed; such a window holds nothing.
        guard query.limit > 0, query.until.map({ $0 >= query.since }) ?? true else { return [] }
        let sinceMs = Int64((query.since.timeIntervalSince1970 * 1000).rounded(.up))
        var names = ["#pk": ItemLayout.indexPartitionKey, "#sk": ItemLayout.indexSortKey]
        var values: Item = [":since": .string(ItemLayout.padded(sinceMs, width: 15))]
        var filters: [String] = []
        if let type = query.type {
            names["#type"] = "type"
            values[":type"] = .string(type.rawValue)
            filters.append("#type = :type")
        }
        if let widgetId = query.widgetId {
            names["#widget"] = "widget_id"
            values[":widget"] = .string(widgetId)
            filters.append("#widget = :widget")
        }
        if let domain = query.domain {
            names["#domain"] = "domain"
            values[":domain"] = .string(domain)
            filters.append("#domain = :domain")
        }
        if let until = query.until {
            // Sort keys are the padded millisecond, "#", the id: "$" sorts after every id of that millisecond.
            values[":until"] = .string(ItemLayout.padded(ItemLayout.milliseconds(until), width: 15) + "$")
        }
        let shardRequests = ItemLayout.securityEventsPartitions.map { partition in
            var valuesForShard = values
            valuesForShard[":pk"] = .string(partition)
            var request = request().with(names: names, values: valuesForShard)
            request.indexName = ItemLayout.index
            request.keyConditionExpression = query.until == nil ? "#pk = :pk AND #sk >= :since" : "#pk = :pk AND #sk BETWEEN :since AND :until"
            request.filterExpression = filters.isEmpty ? nil : filters.joined(separator: " AND ")
            request.scanIndexForward = false
            return request
        }
        let items = try await withThrowingTaskGroup(of: [Item].self) { group in
            for request in shardRequests { group.addTask { try await self.query(request, limit: query.limit) } }
            var items: [Item] = []
            for try await page in group { items += page }
            return items
        }
        let newestFirst = items.sorted { ($0[ItemLayout.indexSortKey]?.stringValue ?? "") > ($1[ItemLayout.indexSortKey]?.stringValue ?? "") }
        return try newestFirst.prefix(query.limit).map(securityEvent(from:))
    }

    // MARK: Usage and retention

    /// One UpdateItem adding to the bucket's counters; kept for the retention period past its day,
    /// which covers the longest analytics period (30 days).
    public func recordUsage(at date: Date, widgetId: String, domain: String, messages: Int, blocked: Int) async throws {
        let day = DailyUsage.day(of: date)
        var update = request().with(
            names: ["#m": "messages", "#b": "blocked", "#day": "day", "#w": "widget_id", "#d": "domain", "#ttl": ItemLayout.expiresAt],
            values: [":m": AttributeValue(messages), ":b": AttributeValue(blocked), ":day": .string(day), ":w": .string(widgetId),
                     ":d": .string(domain), ":ttl": ItemLayout.epochSeconds(date.addingTimeInterval(retention + 86_400))])
        update.key = ItemLayout.usageBucket(day: day, widget: widgetId, domain: domain)
        update.updateExpression = "ADD #m :m, #b :b SET #day = :day, #w = :w, #d = :d, #ttl = if_not_exists(#ttl, :ttl)"
        // Never retried after an ambiguous failure: a doubled ADD would over-count.
        _ = try await self.update(update, idempotent: false)
    }

    /// One Query per day, run concurrently: at most 30 small partitions for the longest period.
    public func usage(days: [String]) async throws -> [DailyUsage] {
        try await withThrowingTaskGroup(of: [DailyUsage].self) { group in
            for day in Set(days) {
                group.addTask {
                    var query = request().with(names: ["#pk": ItemLayout.partitionKey], values: [":pk": .string(ItemLayout.usageDay(day))])
                    query.keyConditionExpression = "#pk = :pk"
                    query.consistentRead = true
                    return try await self.query(query).map { item in
                        DailyUsage(day: day, widgetId: item["widget_id"]?.stringValue ?? DailyUsage.unknown,
                                   domain: item["domain"]?.stringValue ?? DailyUsage.unknown,
                                   messages: Int(item["messages"]?.int64Value ?? 0), blocked: Int(item["blocked"]?.int64Value ?? 0))
                    }
                }
            }
            var result: [DailyUsage] = []
            for try await buckets in group { result += buckets }
            return result.sorted { ($0.day, $0.widgetId, $0.domain) < ($1.day, $1.widgetId, $1.domain) }
        }
    }

    /// Every record past retention carries `expires_at`, and DynamoDB's TTL deletes it: nothing to
    /// scan for here, which on a large table would cost a read of every item.
    public func purge(before cutoff: Date, now: Date) async throws -> PurgeResult {
        PurgeResult(messages: 0, securityEvents: 0, usageBuckets: 0, expiresByTTL: true)
    }
}
