// swift-tools-version: 6.1
import PackageDescription

// Two programs that do the same thing — one GET to the URL in argv[1], print the status, exit — so
// that the HTTP client for the Lambda `bootstrap` can be chosen on measured cold start and binary
// size. A separate package so that the test suite never builds it. See BENCHMARKS.md.
let package = Package(
    name: "http-client-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .executableTarget(
            name: "AHCGet",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .executableTarget(name: "URLSessionGet"),
    ],
    swiftLanguageModes: [.v6]
)
