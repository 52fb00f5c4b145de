#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How stores serialise records they keep whole (SQLite's `json` columns, DynamoDB's `record`
/// attribute): dates as epoch milliseconds, so that stored records round-trip exactly and both
/// stores read each other's exports the same way.
public enum StoreCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}

extension StoreCoding {
    /// `event` as `encoder` stores it (the same members and values; slashes are not escaped, which
    /// every JSON reader reads alike), written by hand: stores keep one per refused request.
    public static func json(_ event: SecurityEvent) -> String {
        var writer = JSONValueWriter()
        event.write(in: &writer) { date, writer in writer.write(.number(date.timeIntervalSince1970 * 1000)) }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Reads what `json(_:)` or `encoder` stored, accepting and refusing what `decoder` does, without
    /// going through `Decodable`: an admin listing reads up to a thousand events.
    public static func securityEvent(json bytes: some Sequence<UInt8>) throws(JSONValueDecodingError) -> SecurityEvent {
        try StoredSecurityEvent(jsonBytes: bytes).event
    }
}

/// A security event as stores keep it: `timestamp` in epoch milliseconds.
private struct StoredSecurityEvent: JSONValueDecodable {
    var event: SecurityEvent

    init(json: JSONValue) throws(JSONShapeError) {
        let fields = try JSONFields(json)
        let type: String = try fields.decode("type")
        guard let known = SecurityEventType(rawValue: type) else { throw JSONShapeError(.invalidValue, path: ["type"]) }
        let milliseconds: Double = try fields.decode("timestamp")
        let lastSeen: Double? = try fields.decodeIfPresent("last_seen")
        event = SecurityEvent(id: try fields.decode("id"), type: known, widgetId: try fields.decodeIfPresent("widget_id"),
                              origin: try fields.decodeIfPresent("origin"), domain: try fields.decodeIfPresent("domain"),
                              sourceIp: try fields.decode("ip"), userAgent: try fields.decodeIfPresent("user_agent"),
                              details: try fields.decode("details"), createdAt: Date(timeIntervalSince1970: milliseconds / 1000),
                              count: try fields.decodeIfPresent("count") ?? 1,
                              lastSeenAt: lastSeen.map { Date(timeIntervalSince1970: $0 / 1000) },
                              sampleWidgetIds: try fields.decodeIfPresent("sample_widget_ids"),
                              sampleOrigins: try fields.decodeIfPresent("sample_origins"))
    }
}
