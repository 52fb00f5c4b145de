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
    /// deletes them (`RETENTION_DAYS`, 30 by default, as docs/operations.md says).
    public let retention: TimeInterval
    let client: DynamoDBClient
    /// Widgets read in the last few seconds, shared by the invocations of this execution environment.
    let widgetCache = WidgetCache()
    /// Where this store's message order begins: appends at one wall-clock millisecond keep their
    /// order by the time since then (`ItemLayout.messageSortKey`).
    let appendOrigin = ContinuousClock.now

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

    private func get(_ key: Item, consistent: Bool = true) async throws -> Item? {
        var get = request()
        get.key = key
        get.consistentRead = consistent
        return try await client.call("GetItem", get, idempotent: true, as: ItemResponse.self).item
    }

    /// The items at `keys` (at most 100), in their order, nil where there is none: one BatchGetItem,
    /// repeated for any keys DynamoDB leaves unprocessed.
    private func batchGet(_ keys: [Item], consistent: Bool) async throws -> [Item?] {
        var found: [Item] = []
        var remaining = keys
        while !remaining.isEmpty {
            let batch = BatchGetRequest(requestItems: [tableName: .init(keys: remaining, consistentRead: consistent)])
            let response = try await client.call("BatchGetItem", batch, idempotent: true, as: BatchGetResponse.self)
            found += response.responses[tableName] ?? []
            remaining = response.unprocessedKeys[tableName]?.keys ?? []
            if !remaining.isEmpty { try await Task.sleep(for: client.retry.delay(beforeRetry: 1)) }
        }
        return keys.map { key in
            found.first { $0[ItemLayout.partitionKey] == key[ItemLayout.partitionKey] && $0[ItemLayout.sortKey] == key[ItemLayout.sortKey] }
        }
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

    /// From `widgetCache` when read within its lifetime, else an eventually consistent read: a
    /// widget changed elsewhere is seen within seconds everywhere (at once by this store), and a
    /// popular widget is not one item read on every message by every client.
    public func widget(id: String) async throws -> WidgetConfig? {
        if let cached = widgetCache.widget(id: id) { return cached }
        let widget = try await get(ItemLayout.widget(id), consistent: false).map { try decodeRecord(WidgetConfig.self, from: $0) }
        if let widget { widgetCache.keep(widget) }
        return widget
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
                widgetCache.forget(id: widget.widgetId)
                let _: EmptyResponse = try await client.call("TransactWriteItems", TransactWriteRequest(transactItems: actions), idempotent: true)
                widgetCache.forget(id: widget.widgetId)
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
        // Eventually consistent: a domain just added is allowed within a second or so.
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

    /// One PutItem under a sort key of its time (`ItemLayout.messageSortKey`), with no index copy.
    /// The domain export finds it through its conversation (`storeMessages`).
    public func appendMessage(_ message: StoredMessage) async throws {
        _ = try await storeMessages([message], historyLimit: 0)
    }

    /// Writes `messages` (of one conversation, in order) concurrently, and returns the last
    /// `historyLimit` messages stored before them, oldest first, from an eventually consistent read.
    ///
    /// The export of a domain's messages reads the conversations listed for it
    /// (`ItemLayout.domainConversation`). A conversation is listed for a domain when one of its
    /// messages from that domain follows none, or one from another domain or an earlier UTC day; the
    /// listing outlives that message by a day, so it outlives every message of that day in the run
    /// it starts. A conversation is thus written to the listing about once a day per domain instead
    /// of an index copy of every message, and a read that misses the latest messages only lists it
    /// again, never not at all.
    private func storeMessages(_ messages: [StoredMessage], historyLimit: Int) async throws -> [StoredMessage] {
        guard let first = messages.first else { return [] }
        let partition = ItemLayout.conversation(widget: first.widgetId, conversation: first.conversationId)
        let since = appendOrigin.duration(to: .now).components
        let tick = since.seconds * 1_000_000_000 + since.attoseconds / 1_000_000_000
        let nonce = UInt32.random(in: .min ... .max)
        let sortKeys = messages.indices.map { ItemLayout.messageSortKey(at: messages[$0].createdAt, tick: tick + Int64($0), nonce: nonce) }
        async let earlierItems = latestMessageItems(partition: partition, before: sortKeys[0], limit: max(historyLimit, 1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (message, sortKey) in zip(messages, sortKeys) {
                let item = ItemLayout.key(partition, sortKey).merging([
                    ItemLayout.record: try encodeRecord(message),
                    ItemLayout.expiresAt: ItemLayout.epochSeconds(message.createdAt.addingTimeInterval(retention)),
                ]) { $1 }
                group.addTask { try await self.put(item) }
            }
            try await group.waitForAll()
        }
        let earlier = try await earlierItems.map { try decodeRecord(StoredMessage.self, from: $0) }
        var listings: [String: Date] = [:]
        var previous = earlier.last
        for message in messages {
            if let domain = message.domain, previous.map({ $0.domain != domain || DailyUsage.day(of: $0.createdAt) != DailyUsage.day(of: message.createdAt) }) ?? true {
                listings[domain] = max(listings[domain] ?? message.createdAt, message.createdAt)
            }
            previous = message
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (domain, date) in listings {
                let item = ItemLayout.domainConversation(domain, conversation: partition).merging([
                    ItemLayout.expiresAt: ItemLayout.epochSeconds(date.addingTimeInterval(retention + 86_400)),
                ]) { $1 }
                group.addTask { try await self.put(item) }
            }
            try await group.waitForAll()
        }
        return Array(earlier.suffix(historyLimit))
    }

    /// The conversation's last `limit` message items with sort keys before `sortKey`, oldest first.
    private func latestMessageItems(partition: String, before sortKey: String, limit: Int, consistent: Bool = false) async throws -> [Item] {
        var query = request().with(names: ["#pk": ItemLayout.partitionKey, "#sk": ItemLayout.sortKey], values: [
            ":pk": .string(partition), ":lowest": .string(ItemLayout.messagePrefix), ":before": .string(sortKey),
        ])
        query.keyConditionExpression = "#pk = :pk AND #sk BETWEEN :lowest AND :before"
        query.scanIndexForward = false
        query.consistentRead = consistent
        return try await self.query(query, limit: limit + 1).filter { $0[ItemLayout.sortKey] != .string(sortKey) }.prefix(limit).reversed()
    }

    /// The messages of the conversations listed for `domain`, filtered to that domain, together with
    /// those still in the index every message used to be copied to, oldest first.
    public func messages(domain: String) async throws -> [StoredMessage] {
        var legacyIndex = request().with(names: ["#pk": ItemLayout.indexPartitionKey], values: [":pk": .string(ItemLayout.domainMessages(domain))])
        legacyIndex.indexName = ItemLayout.index
        legacyIndex.keyConditionExpression = "#pk = :pk"
        let legacy = legacyIndex
        let listings = (0..<ItemLayout.domainConversationShards).map { shard in
            var listing = request().with(names: ["#pk": ItemLayout.partitionKey],
                                         values: [":pk": .string(ItemLayout.domainConversations(domain, shard: shard))])
            listing.keyConditionExpression = "#pk = :pk"
            listing.consistentRead = true
            return listing
        }
        var found = try await withThrowingTaskGroup(of: [Item].self) { group in
            group.addTask { try await self.query(legacy) }
            for listing in listings {
                group.addTask {
                    let conversations = try await self.query(listing).compactMap { $0[ItemLayout.sortKey]?.stringValue }
                    var items: [Item] = []
                    for conversation in conversations {
                        var messages = self.request().with(names: ["#pk": ItemLayout.partitionKey, "#sk": ItemLayout.sortKey], values: [
                            ":pk": .string(conversation), ":prefix": .string(ItemLayout.messagePrefix),
                        ])
                        messages.keyConditionExpression = "#pk = :pk AND begins_with(#sk, :prefix)"
                        messages.consistentRead = true
                        items += try await self.query(messages)
                    }
                    return items
                }
            }
            var byKey: [String: (sortKey: String, message: StoredMessage)] = [:]
            for try await items in group {
                for item in items {
                    let message = try decodeRecord(StoredMessage.self, from: item)
                    guard message.domain == domain, case .string(let pk)? = item[ItemLayout.partitionKey],
                          case .string(let sk)? = item[ItemLayout.sortKey] else { continue }
                    byKey[pk + "\u{0}" + sk] = (sk, message)
                }
            }
            return Array(byKey.values)
        }
        found.sort { ($0.message.createdAt, $0.sortKey) < ($1.message.createdAt, $1.sortKey) }
        return found.map(\.message)
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

    /// How many times an admission is decided again after other admissions of its subject wrote
    /// its `LimitsRecord` first. Each lost race means another admission was counted, so a subject
    /// that exhausts them is sending far beyond any limit and is refused as too fast.
    static let limitsAttempts = 64

    /// When the admission's counters after any unscoped ones share one scope with its interval (as
    /// `RateLimiter`'s do): the block, the scope's `LimitsRecord` and the unscoped counters in one
    /// BatchGetItem, the decision made on them, and one conditional PutItem for an admitted message —
    /// no write for a refused or blocked one. Then the message, its reply and usage are written
    /// concurrently with the history read. Unscoped counters before the scope are incremented one by
    /// one, as `admitStepByStep` does (which every other admission falls back to), only once the
    /// counts as read admit the message: a refusal that the reads decide takes no increment it would
    /// have to take back, since a refusal is what an attacker chooses to send. The conditional
    /// increments still decide what is admitted, so concurrent admissions stay exact.
    public func admit(_ admission: MessageAdmission) async throws -> AdmissionOutcome {
        let unscoped = admission.counters.prefix { $0.scope == nil }
        let scoped = Array(admission.counters.dropFirst(unscoped.count))
        guard let scope = scoped.first?.scope ?? admission.interval?.scope, scoped.allSatisfy({ $0.scope == scope }),
              admission.interval.map({ $0.scope == scope }) ?? true else {
            return try await admitStepByStep(admission)
        }
        let limitsKey = ItemLayout.single("LIMITS", scope)
        let read = try await batchGet([ItemLayout.single("BLOCK", admission.blockKey), limitsKey]
                                      + unscoped.map { ItemLayout.single("COUNTER", $0.key) }, consistent: true)
        if let until = read[0]?["until_ms"]?.int64Value, until > ItemLayout.milliseconds(admission.now) {
            return .blocked(until: Date(timeIntervalSince1970: TimeInterval(until) / 1000))
        }
        if let refusal = Self.refusalAsRead(unscoped: Array(unscoped), counts: read.dropFirst(2).map { Int($0?["count"]?.int64Value ?? 0) },
                                            record: LimitsRecord(item: read[1]), scoped: scoped, admission: admission) {
            return refusal
        }
        var outcomes: [CounterOutcome] = []
        for counter in unscoped {
            let outcome = try await increment(counter.key, limit: counter.limit, expiresAt: counter.expiresAt)
            outcomes.append(outcome)
            if case .refused = outcome {
                for taken in unscoped.prefix(outcomes.count - 1) { try await decrement(taken.key) }
                return .refusedByCounter(outcomes)
            }
        }
        let expiresAt = (scoped.map(\.expiresAt) + [admission.interval?.expiresAt].compactMap { $0 }).max() ?? admission.now
        var record = LimitsRecord(item: read[1])
        // The message counted in its day's usage within the widget's budget, before the limits are
        // written, so that a message the budget refuses writes no more than that try.
        var countedUsage = false
        func takeBack() async throws {
            for taken in unscoped { try await decrement(taken.key) }
            if countedUsage, let message = admission.message {
                try await recordUsage(at: message.createdAt, widgetId: message.widgetId, domain: message.domain ?? DailyUsage.unknown,
                                      messages: -1, blocked: 0)
            }
        }
        for _ in 0..<Self.limitsAttempts {
            switch record.deciding(scoped, interval: admission.interval, now: admission.now) {
            case .refusedByCounter(let scopedOutcomes):
                try await takeBack()
                return .refusedByCounter(outcomes + scopedOutcomes)
            case .refusedByInterval(let remaining, let scopedOutcomes):
                try await takeBack()
                return .refusedByInterval(remaining: remaining, counters: outcomes + scopedOutcomes)
            case .admitted(let scopedOutcomes, let next):
                if !countedUsage, let budget = admission.budget, let message = admission.message {
                    guard try await countWithinBudget(message, budget: budget) else {
                        try await takeBack()
                        return .refusedByBudget(count: budget)
                    }
                    countedUsage = true
                }
                var put = request().with(names: ["#v": "version"], values: next.version.map { [":v": AttributeValue($0)] } ?? [:])
                put.item = try next.item(key: limitsKey, expiresAt: expiresAt)
                put.conditionExpression = next.version == nil ? "attribute_not_exists(#v)" : "#v = :v"
                put.returnValuesOnConditionCheckFailure = "ALL_OLD"
                do {
                    // Not sent again after an ambiguous failure: had it been applied, it would count twice.
                    let _: EmptyResponse = try await client.call("PutItem", put, idempotent: false)
                } catch let error as DynamoDBError where error.isConditionalCheckFailed {
                    let current = if let item = error.item { item } else { try await get(limitsKey) }
                    record = LimitsRecord(item: current)
                    continue
                }
                let (history, reply) = try await storeAdmitted(admission, countingUsage: !countedUsage)
                return .admitted(counters: outcomes + scopedOutcomes, history: history, reply: reply)
            }
        }
        try await takeBack()
        if let first = scoped.first {
            return .refusedByCounter(outcomes + [.refused(count: record.counts[first.key] ?? first.limit)])
        }
        return .refusedByInterval(remaining: admission.interval?.interval ?? 1, counters: outcomes)
    }

    /// The refusal that `admit(_:)` would come to on the counts and record as read, writing nothing,
    /// or nil when they admit the message (which the writes then decide). The unscoped counters that
    /// come before the one that refuses are reported with the count they would have taken.
    static func refusalAsRead(unscoped: [CounterIncrement], counts: [Int], record: LimitsRecord, scoped: [CounterIncrement],
                              admission: MessageAdmission) -> AdmissionOutcome? {
        var outcomes: [CounterOutcome] = []
        for (counter, count) in zip(unscoped, counts) {
            guard counter.limit > 0, count < counter.limit else {
                return .refusedByCounter(outcomes + [.refused(count: counter.limit > 0 ? count : 0)])
            }
            outcomes.append(.admitted(count: count + 1))
        }
        switch record.deciding(scoped, interval: admission.interval, now: admission.now) {
        case .refusedByCounter(let scopedOutcomes): return .refusedByCounter(outcomes + scopedOutcomes)
        case .refusedByInterval(let remaining, let scopedOutcomes): return .refusedByInterval(remaining: remaining, counters: outcomes + scopedOutcomes)
        case .admitted: return nil
        }
    }

    /// An admitted message's writes: the message and the answer's reply (`storeMessages`, which
    /// also reads the history) and, unless the budget counted it already, its usage, concurrently.
    /// An answer that reads no history is made first, so that both messages are one batch write;
    /// one that reads history is made from it, and its reply is a write of its own.
    private func storeAdmitted(_ admission: MessageAdmission, countingUsage: Bool) async throws -> (history: [StoredMessage], reply: String?) {
        guard let message = admission.message else { return ([], nil) }
        async let usage: Void = countingUsage
            ? recordUsage(at: message.createdAt, widgetId: message.widgetId, domain: message.domain ?? DailyUsage.unknown, messages: 1, blocked: 0)
            : ()
        let early = admission.historyLimit == 0 ? admission.answer.map { $0.reply([]) } : nil
        let earlyStored = early.flatMap { admission.answer?.storedReply(for: $0) }
        let history = try await storeMessages([message] + [earlyStored].compactMap { $0 }, historyLimit: admission.historyLimit)
        var reply = early
        if reply == nil, let answer = admission.answer {
            let text = answer.reply(history)
            if let stored = answer.storedReply(for: text) { try await appendMessage(stored) }
            reply = text
        }
        try await usage
        return (history, reply)
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
        var names = ["#record": ItemLayout.record, "#gpk": ItemLayout.eventIndexPartitionKey, "#gsk": ItemLayout.eventIndexSortKey,
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
                    "#ttl = if_not_exists(#ttl, :ttl)", "#type = if_not_exists(#type, :type)", "#last = :last"]
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

    /// Newest first from `gsi2` (and `gsi1` for events of earlier layouts), from `since` on (to
    /// `until`'s millisecond, when set): each of the events' index partitions is read newest first,
    /// in parallel, and the pages merged; the newest `limit` are then read from the table, in
    /// batches, since `gsi2` holds only what the filters need. Type, widget and domain are filters,
    /// so pages are read until `limit` events match or none are left.
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
        let indexes = [(ItemLayout.eventIndex, ItemLayout.eventIndexPartitionKey, ItemLayout.eventIndexSortKey, ItemLayout.securityEventsPartitions),
                       (ItemLayout.index, ItemLayout.indexPartitionKey, ItemLayout.indexSortKey, ItemLayout.legacySecurityEventsPartitions)]
        let shardRequests = indexes.flatMap { index, partitionKey, sortKey, partitions in
            partitions.map { partition in
                var valuesForShard = values
                valuesForShard[":pk"] = .string(partition)
                var namesForIndex = names
                namesForIndex["#pk"] = partitionKey
                namesForIndex["#sk"] = sortKey
                var request = request().with(names: namesForIndex, values: valuesForShard)
                request.indexName = index
                request.keyConditionExpression = query.until == nil ? "#pk = :pk AND #sk >= :since" : "#pk = :pk AND #sk BETWEEN :since AND :until"
                request.filterExpression = filters.isEmpty ? nil : filters.joined(separator: " AND ")
                request.scanIndexForward = false
                return (sortKey, request)
            }
        }
        // The newest entry of each event (an event of an earlier layout may be in both indexes).
        let entries = try await withThrowingTaskGroup(of: [(sortKey: String, pk: String, item: Item)].self) { group in
            for (sortKey, request) in shardRequests {
                group.addTask {
                    try await self.query(request, limit: query.limit).map { item in
                        (item[sortKey]?.stringValue ?? "", item[ItemLayout.partitionKey]?.stringValue ?? "", item)
                    }
                }
            }
            var newest: [String: (sortKey: String, pk: String, item: Item)] = [:]
            for try await page in group {
                for entry in page where entry.sortKey > newest[entry.pk]?.sortKey ?? "" { newest[entry.pk] = entry }
            }
            return newest.values.sorted { $0.sortKey > $1.sortKey }.prefix(query.limit)
        }
        // `gsi1` entries are whole items; `gsi2` entries are read from the table.
        let partial = entries.filter { $0.item[ItemLayout.record] == nil }.map(\.pk)
        var read: [String: Item] = [:]
        for start in stride(from: 0, to: partial.count, by: 100) {
            let keys = partial[start..<min(start + 100, partial.count)].map { ItemLayout.key($0, "SECURITY_EVENT") }
            for item in try await batchGet(keys, consistent: false).compactMap({ $0 }) {
                if let pk = item[ItemLayout.partitionKey]?.stringValue { read[pk] = item }
            }
        }
        return try entries.compactMap { entry in
            guard let item = entry.item[ItemLayout.record] == nil ? read[entry.pk] : entry.item else { return nil }
            return try securityEvent(from: item)
        }
    }

    // MARK: Usage and retention

    /// One UpdateItem adding to the widget's item in a random one of the day's
    /// `ItemLayout.usageShards`; kept for the retention period past its day, which covers the
    /// longest analytics period (30 days).
    public func recordUsage(at date: Date, widgetId: String, domain: String, messages: Int, blocked: Int) async throws {
        _ = try await addUsage(at: date, widgetId: widgetId, domain: domain, messages: messages, blocked: blocked,
                               shard: Int.random(in: 0..<ItemLayout.usageShards), cap: nil)
    }

    /// Adds to the widget's usage item of `date`'s day in `shard`: its domain's `messages#` and
    /// `blocked#` counts, and its `total` of messages, unless that has reached `cap` (then false).
    private func addUsage(at date: Date, widgetId: String, domain: String, messages: Int, blocked: Int, shard: Int, cap: Int?) async throws -> Bool {
        let day = DailyUsage.day(of: date)
        var values: Item = [":m": AttributeValue(messages), ":b": AttributeValue(blocked), ":day": .string(day), ":w": .string(widgetId),
                            ":ttl": ItemLayout.epochSeconds(date.addingTimeInterval(retention + 86_400))]
        if let cap { values[":cap"] = AttributeValue(cap) }
        var update = request().with(
            names: ["#m": ItemLayout.usageMessages + domain, "#b": ItemLayout.usageBlocked + domain, "#total": ItemLayout.usageTotal,
                    "#day": "day", "#w": "widget_id", "#ttl": ItemLayout.expiresAt],
            values: values)
        update.key = ItemLayout.usageBucket(day: day, shard: shard, widget: widgetId)
        update.updateExpression = "ADD #m :m, #b :b, #total :m SET #day = :day, #w = :w, #ttl = if_not_exists(#ttl, :ttl)"
        if cap != nil { update.conditionExpression = "attribute_not_exists(#total) OR #total < :cap" }
        // Never retried after an ambiguous failure: a doubled ADD would over-count.
        if case .failure = try await self.update(update, idempotent: false) { return false }
        return true
    }

    /// Counts `message` in its day's usage within `budget`, which the day's shards hold in equal
    /// parts: a shard that is full refuses, and one other is tried. So the widget never gets more
    /// than `budget` plus `MessageAdmission.budgetSlack`, and is refused only near it.
    private func countWithinBudget(_ message: StoredMessage, budget: Int) async throws -> Bool {
        let cap = (budget + ItemLayout.usageShards - 1) / ItemLayout.usageShards
        let first = Int.random(in: 0..<ItemLayout.usageShards)
        for shard in [first, (first + Int.random(in: 1..<ItemLayout.usageShards)) % ItemLayout.usageShards] {
            if try await addUsage(at: message.createdAt, widgetId: message.widgetId, domain: message.domain ?? DailyUsage.unknown,
                                  messages: 1, blocked: 0, shard: shard, cap: cap) { return true }
        }
        return false
    }

    /// One Query per shard of each day (and its bucket partition from before the shards), run
    /// concurrently, and each widget's counts by domain summed over the shards.
    public func usage(days: [String]) async throws -> [DailyUsage] {
        let partitions = Set(days).flatMap { day in
            ((0..<ItemLayout.usageShards).map { ItemLayout.usageDay(day, shard: $0) } + [ItemLayout.usageDay(day)]).map { (day, $0) }
        }
        return try await withThrowingTaskGroup(of: [DailyUsage].self) { group in
            for (day, partition) in partitions {
                group.addTask {
                    var query = request().with(names: ["#pk": ItemLayout.partitionKey], values: [":pk": .string(partition)])
                    query.keyConditionExpression = "#pk = :pk"
                    query.consistentRead = true
                    return try await self.query(query).flatMap { item in ItemLayout.usageBuckets(in: item, day: day) }
                }
            }
            var buckets: [String: DailyUsage] = [:]
            for try await shard in group {
                for bucket in shard {
                    let key = [bucket.day, bucket.widgetId, bucket.domain].joined(separator: "\u{0}")
                    if var sum = buckets[key] {
                        sum.messages += bucket.messages
                        sum.blocked += bucket.blocked
                        buckets[key] = sum
                    } else {
                        buckets[key] = bucket
                    }
                }
            }
            return buckets.values.sorted { ($0.day, $0.widgetId, $0.domain) < ($1.day, $1.widgetId, $1.domain) }
        }
    }

    /// Every record past retention carries `expires_at`, and DynamoDB's TTL deletes it: nothing to
    /// scan for here, which on a large table would cost a read of every item.
    public func purge(before cutoff: Date, now: Date) async throws -> PurgeResult {
        PurgeResult(messages: 0, securityEvents: 0, usageBuckets: 0, expiresByTTL: true)
    }
}
