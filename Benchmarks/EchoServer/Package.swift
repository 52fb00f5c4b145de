// swift-tools-version: 6.1
import PackageDescription

// The ceiling for the stage's WebSocket throughput: a bare echo server on the same server library
// (Hummingbird 2 + HummingbirdWebSocket over SwiftNIO), measured side by side with `local-runtime
// serve` by scripts/bench. A separate package so that the test suite never builds it. See BENCHMARKS.md.
let package = Package(
    name: "echo-server-benchmark",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
    ],
    targets: [
        .executableTarget(
            name: "EchoServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
