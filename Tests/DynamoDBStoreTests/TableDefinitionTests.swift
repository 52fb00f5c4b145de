import DynamoDBStore
import Foundation
import Testing

@Suite("DynamoDB table definition")
struct TableDefinitionTests {
    /// `Resources.ChatStateTable.Properties` of template.json: the deployed table.
    struct DeclaredTable: Decodable {
        var definition: TableDefinition
        var timeToLiveAttribute: String
        var timeToLiveEnabled: Bool

        private enum Keys: String, CodingKey {
            case resources = "Resources", table = "ChatStateTable", properties = "Properties"
            case timeToLive = "TimeToLiveSpecification", attributeName = "AttributeName", enabled = "Enabled"
        }

        init(from decoder: any Decoder) throws {
            let properties = try decoder.container(keyedBy: Keys.self)
                .nestedContainer(keyedBy: Keys.self, forKey: .resources)
                .nestedContainer(keyedBy: Keys.self, forKey: .table)
            definition = try properties.decode(TableDefinition.self, forKey: .properties)
            let timeToLive = try properties.nestedContainer(keyedBy: Keys.self, forKey: .properties)
                .nestedContainer(keyedBy: Keys.self, forKey: .timeToLive)
            timeToLiveAttribute = try timeToLive.decode(String.self, forKey: .attributeName)
            timeToLiveEnabled = try timeToLive.decode(Bool.self, forKey: .enabled)
        }
    }

    let declared: DeclaredTable

    init() throws {
        let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../template.json")
        declared = try JSONDecoder().decode(DeclaredTable.self, from: Data(contentsOf: template.standardized))
    }

    @Test("the store's keys and index are template.json's ChatStateTable")
    func matchesTemplate() {
        #expect(declared.definition == TableDefinition.chatState)
    }

    @Test("TTL is enabled on the attribute the store writes")
    func timeToLive() {
        #expect(declared.timeToLiveEnabled)
        #expect(declared.timeToLiveAttribute == TableDefinition.timeToLiveAttribute)
    }
}
