import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("SAM templates in YAML")
struct TemplateYAMLTests {
    @Test("short-form tags read as the long form CloudFormation expands them to")
    func shortForms() throws {
        let document = try TemplateDocument.parseYAML("""
            A: !Ref Table
            B: !GetAtt Fn.Arn
            C: !Sub "${AWS::Region}-x"
            D: !Join [",", [a, !Ref P]]
            E: !If [IsProd, 1, !Ref AWS::NoValue]
            F: !Select [0, !Split [",", "a,b"]]
            """)
        #expect(document["A"] == .object(["Ref": .string("Table")]))
        #expect(document["B"] == .object(["Fn::GetAtt": .array([.string("Fn"), .string("Arn")])]))
        #expect(document["C"] == .object(["Fn::Sub": .string("${AWS::Region}-x")]))
        #expect(document["D"]?["Fn::Join"]?.arrayValue?.last?.arrayValue?.last == .object(["Ref": .string("P")]))
        #expect(document["E"]?["Fn::If"]?.arrayValue?.first == .string("IsProd"))
        #expect(document["F"]?["Fn::Select"]?.arrayValue?.last?["Fn::Split"] != nil)
    }

    @Test("plain numbers and booleans keep their types; quoted ones and dates stay text")
    func scalarTypes() throws {
        let document = try TemplateDocument.parseYAML("""
            AWSTemplateFormatVersion: 2010-09-09
            Timeout: 30
            Quoted: "30"
            Flag: true
            Word: yes
            """)
        #expect(document["AWSTemplateFormatVersion"] == .string("2010-09-09"))
        #expect(document["Timeout"] == .number(30))
        #expect(document["Quoted"] == .string("30"))
        #expect(document["Flag"] == .bool(true))
        #expect(document["Word"] == .string("yes"))
    }

    @Test("an unknown tag is refused with its line")
    func unknownTag() {
        #expect(throws: TemplateDocument.ReadError.self) { try TemplateDocument.parseYAML("A: !Reff X\n") }
        do {
            _ = try TemplateDocument.parseYAML("A: 1\nB: !Reff X\n")
        } catch {
            #expect("\(error)".contains("!Reff"))
            #expect("\(error)".contains("line 2"))
        }
    }
}
