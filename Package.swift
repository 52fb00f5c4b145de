// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-chat-widget-lambda",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Handlers", targets: ["Handlers"]),
        .executable(name: "local-runtime", targets: ["LocalRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Pure logic shipped in every Lambda: envelopes, handlers, widget policy, I/O protocols.
        .target(name: "Handlers"),
        // The system SQLite library (Debian: libsqlite3-dev), called synchronously: no thread hops per query.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "SQLiteStore", dependencies: ["Handlers", "CSQLite"]),
        .executableTarget(
            name: "LocalRuntime",
            dependencies: [
                "Handlers",
                "SQLiteStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HandlersTests", dependencies: ["Handlers"]),
        .testTarget(name: "SQLiteStoreTests", dependencies: ["SQLiteStore", "Handlers"]),
        .testTarget(name: "LocalRuntimeTests", dependencies: ["LocalRuntime", "Handlers", "SQLiteStore"]),
    ],
    swiftLanguageModes: [.v6]
)
