import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// One GET with AsyncHTTPClient's shared client (SwiftNIO, no Foundation networking).
guard CommandLine.arguments.count == 2 else {
    print("usage: AHCGet URL")
    exit(2)
}
let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: CommandLine.arguments[1]), timeout: .seconds(10))
let body = try await response.body.collect(upTo: 1 << 20)
print(response.status.code, body.readableBytes)
