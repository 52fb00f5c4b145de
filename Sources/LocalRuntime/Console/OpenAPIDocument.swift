import Foundation

/// The HTTP API's OpenAPI document (`docs/openapi.yaml`), read once when the stage starts and
/// served as is at `GET /_dev/openapi.yaml` (and `/openapi.yaml` unless a template route takes it),
/// so that a client generator or a viewer can be pointed at the running stage.
///
/// It is looked for next to the template first (`--template path/template.json` →
/// `path/docs/openapi.yaml`), then in the working directory. A stage started elsewhere has none,
/// and the routes say where it looked instead of failing to start.
struct OpenAPIDocument: Sendable {
    static let relativePath = "docs/openapi.yaml"

    /// The file's bytes; nil when no candidate could be read.
    let bytes: [UInt8]?
    /// The paths tried, in order, for the 404's message.
    let searched: [String]

    static let absent = OpenAPIDocument(bytes: nil, searched: [])

    static func load(templatePath: String, workingDirectory: String = FileManager.default.currentDirectoryPath) -> OpenAPIDocument {
        let templateDirectory = URL(fileURLWithPath: templatePath, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true))
            .deletingLastPathComponent()
        var candidates: [String] = []
        for directory in [templateDirectory.standardizedFileURL.path, URL(fileURLWithPath: workingDirectory).standardizedFileURL.path] {
            let path = (directory as NSString).appendingPathComponent(relativePath)
            if !candidates.contains(path) { candidates.append(path) }
        }
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path) { return OpenAPIDocument(bytes: Array(data), searched: candidates) }
        }
        return OpenAPIDocument(bytes: nil, searched: candidates)
    }
}
