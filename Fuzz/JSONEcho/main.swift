// Prints, for each file named on the command line, one line: the JSON text `JSONValue` parses it
// to, written back out, or `invalid`. The differential test compares these lines with Python's
// `json` module over a corpus (Tests/Security/test_runtime_envelope_fuzzing.py).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

@main
enum JSONEcho {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("unreadable")
                continue
            }
            if let value = try? JSONValue(parsing: Array(data)) {
                print(String(decoding: value.jsonBytes, as: UTF8.self))
            } else {
                print("invalid")
            }
        }
    }
}
