import Foundation
import Handlers
import Testing
@testable import LocalRuntime

@Suite("what the command line adds to a template: parameters and environment files")
struct TemplateInputsTests {
    @Test("--parameter-overrides takes SAM's two syntaxes, quotes grouping")
    func overrideSyntax() throws {
        #expect(try TemplateParameters.parseOverrides(["Stage=prod Table=t1", #"ParameterKey=Name,ParameterValue="a b""#])
                == ["Stage": "prod", "Table": "t1", "Name": "a b"])
        #expect(try TemplateParameters.parseOverrides([#"Greeting="hello world" Empty="#]) == ["Greeting": "hello world", "Empty": ""])
    }

    @Test("a parameter takes its override, else its Default; lists become lists")
    func parameterValues() throws {
        let declared = try TemplateDocument.parseYAML("""
            Stage: {Type: String, Default: dev}
            Size: {Type: Number, Default: 128}
            Origins: {Type: CommaDelimitedList, Default: "a,b"}
            """)
        let values = try TemplateParameters.values(declared: declared, overrides: ["Stage": "prod"])
        #expect(values == ["Stage": .string("prod"), "Size": .string("128"), "Origins": .array([.string("a"), .string("b")])])
    }

    @Test("a parameter without Default or override, a value outside AllowedValues and an unknown override are errors")
    func parameterErrors() throws {
        let declared = try TemplateDocument.parseYAML("""
            Key: {Type: String}
            Mode: {Type: String, Default: a, AllowedValues: [a, b]}
            """)
        #expect(throws: TemplateParameters.Failure.self) { try TemplateParameters.values(declared: declared, overrides: [:]) }
        #expect(throws: TemplateParameters.Failure.self) { try TemplateParameters.values(declared: declared, overrides: ["Key": "k", "Mode": "c"]) }
        #expect(throws: TemplateParameters.Failure.self) { try TemplateParameters.values(declared: declared, overrides: ["Key": "k", "Typo": "x"]) }
    }

    @Test("--env-vars replaces only declared variables, a function's own object before Parameters; .env adds")
    func environmentPrecedence() {
        let overrides = EnvironmentOverrides(everyFunction: ["TABLE": "from-parameters", "UNDECLARED": "x"],
                                             perFunction: ["OnConnect": ["TABLE": "from-function"]],
                                             dotEnv: ["EXTRA": "1"])
        #expect(overrides.apply(to: ["TABLE": "t", "OTHER": "o"], logicalId: "OnConnect", functionName: "on-connect")
                == ["TABLE": "from-function", "OTHER": "o", "EXTRA": "1"])
        #expect(overrides.apply(to: ["TABLE": "t"], logicalId: "OnMessage", functionName: "OnMessage") == ["TABLE": "from-parameters", "EXTRA": "1"])
    }

    @Test(".env lines: comments, export, quotes and escapes")
    func dotEnv() throws {
        let parsed = try EnvironmentOverrides.parseDotEnv("""
            # comment
            export A=1
            B = 'two  words'
            C="line\\nbreak"
            D=plain # trailing comment

            """, file: ".env")
        #expect(parsed == ["A": "1", "B": "two  words", "C": "line\nbreak", "D": "plain"])
        #expect(throws: EnvironmentOverrides.Failure.self) { try EnvironmentOverrides.parseDotEnv("not a line", file: ".env") }
    }
}
