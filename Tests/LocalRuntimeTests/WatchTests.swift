import Foundation
import Testing
@testable import LocalRuntime

@Suite("serve --watch: what changed, and which functions it belongs to")
struct WatchTests {
    @Test("a save within the same second is a change; dependency folders are not looked at")
    func snapshots() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("node_modules"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let handler = folder.appendingPathComponent("app.py")
        try Data("v1".utf8).write(to: handler)
        try Data("x".utf8).write(to: folder.appendingPathComponent("node_modules/dep.js"))
        let before = SourceSnapshot(roots: [folder.path])
        #expect(Array(before.files.keys) == [handler.path])
        var later = before
        later.files[handler.path]?.nanoseconds += 1
        #expect(later.changes(since: before) == [handler.path])
        #expect(before.changes(since: before).isEmpty)
    }

    @Test("a changed file swaps the functions whose code folder holds it, and a Swift source asks for a rebuild")
    func plans() throws {
        let document = try TemplateDocument.parseYAML("""
            Resources:
              Py: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.handler, CodeUri: py}}
              Js: {Type: AWS::Serverless::Function, Properties: {Runtime: nodejs20.x, Handler: a.handler, CodeUri: js, FunctionName: js-fn}}
              Swift: {Type: AWS::Serverless::Function, Properties: {Runtime: provided.al2023, Handler: chat}}
            """)
        let template = try Template(document: document, directory: "/app")
        let reloader = FunctionReloader(template: template, directory: "/app", pool: LambdaPool(log: { _ in }), builtInsRunAsBootstrap: true,
                                        interval: .seconds(1), report: { _ in })
        #expect(reloader.plan(for: ["/app/py/a.py"], templatePath: "/app/template.yaml") == .init(recycle: ["Py"]))
        #expect(reloader.plan(for: ["/app/js/lib/x.js"], templatePath: "/app/template.yaml") == .init(recycle: ["js-fn"]))
        #expect(reloader.plan(for: ["/app/pyx/a.py"], templatePath: "/app/template.yaml") == .init())
        #expect(reloader.plan(for: ["/app/Sources/Handlers/Chat.swift"], templatePath: "/app/template.yaml") == .init(rebuildSwift: true))
        #expect(reloader.plan(for: ["/app/template.yaml"], templatePath: "/app/template.yaml") == .init(templateChanged: true))
    }
}
