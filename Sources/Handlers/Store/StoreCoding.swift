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
