import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// One GET with URLSession (FoundationNetworking over libcurl on Linux).
guard CommandLine.arguments.count == 2, let url = URL(string: CommandLine.arguments[1]) else {
    print("usage: URLSessionGet URL")
    exit(2)
}
let (data, response) = try await URLSession.shared.data(from: url)
print((response as? HTTPURLResponse)?.statusCode ?? 0, data.count)
