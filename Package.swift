// swift-tools-version: 6.1
import PackageDescription

// Member lookups only see modules a file imports itself. swift-crypto 3's `Crypto` imports all of
// Foundation, and without this its String extensions (`contains(_:)` → `range(of:options:...)`) leak
// into every module above it: one such call links Foundation, CoreFoundation and ICU's data (~35 MB)
// into the static `bootstrap`, although the code only ever imports FoundationEssentials.
let foundationEssentialsOnly: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "swift-chat-widget-lambda",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Handlers", targets: ["Handlers"]),
        .executable(name: "local-runtime", targets: ["LocalRuntime"]),
        .executable(name: "bootstrap", targets: ["Bootstrap"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The Lambda contract: a function as payload bytes in and out, its invocation context and
        // errors. The runtime client and the functions both build on it; it depends on nothing.
        .target(name: "LambdaCore", swiftSettings: foundationEssentialsOnly),
        // Pure logic shipped in every Lambda: envelopes, handlers, widget policy, I/O protocols.
        // (Crypto for the admin API's HS256 tokens; the bootstrap links it for SigV4 anyway.)
        .target(name: "Handlers", dependencies: ["LambdaCore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: foundationEssentialsOnly),
        // The system SQLite library (Debian: libsqlite3-dev), called synchronously: no thread hops per query.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "SQLiteStore", dependencies: ["Handlers", "CSQLite"], swiftSettings: foundationEssentialsOnly),
        // AWS Signature Version 4 over plain request values, independent of any HTTP client.
        .target(name: "AWSSigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: foundationEssentialsOnly),
        // The deployed store: DynamoDB's JSON API, one table as template.json declares it.
        .target(
            name: "DynamoDBStore",
            dependencies: ["Handlers", "AWSSigV4", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: foundationEssentialsOnly
        ),
        // A ConnectionPoster over HTTP: the `@connections` API, in AWS and on the local stage alike.
        .target(
            name: "ManagementAPIClient",
            dependencies: ["Handlers", "AWSSigV4", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: foundationEssentialsOnly
        ),
        // Replies from an OpenAI-compatible chat-completions API, streamed (server-sent events).
        .target(
            name: "OpenAIProvider",
            dependencies: [
                "Handlers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: foundationEssentialsOnly
        ),
        // The Lambda Runtime API client: a blocking HTTP/1.1 loop, small enough for a fast cold start.
        .target(name: "LambdaRuntime", dependencies: ["LambdaCore"], swiftSettings: foundationEssentialsOnly),
        // Keeps `bootstrap` within provided.al2023's glibc when it is built on a newer one.
        .target(name: "CGlibcCompatibility"),
        // The custom runtime executable deployed as `bootstrap` on provided.al2023.
        .executableTarget(
            name: "Bootstrap",
            dependencies: ["LambdaCore", "Handlers", "LambdaRuntime", "SQLiteStore", "AWSSigV4", "DynamoDBStore", "ManagementAPIClient", "OpenAIProvider",
                           "CGlibcCompatibility"],
            swiftSettings: foundationEssentialsOnly,
            // A position-dependent executable in release: the Swift metadata of a PIE needs ~80,000
            // relative relocations, which ld.so applies — touching and copying every page they sit
            // on — before main; without them a cold start costs ~2 ms less CPU and ~230 fewer page
            // faults (BENCHMARKS.md, Issue 9). The trade-off: the binary's own image is not
            // address-randomised (its libraries, heap and stack still are), as Go's default
            // Lambda binaries are not either. Delete this line to get a PIE back.
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie"], .when(platforms: [.linux], configuration: .release))]
        ),
        .executableTarget(
            name: "LocalRuntime",
            dependencies: [
                "Handlers",
                "SQLiteStore",
                "DynamoDBStore",
                "ManagementAPIClient",
                "OpenAIProvider",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                // SAM templates are YAML more often than JSON.
                .product(name: "Yams", package: "Yams"),
                // HTTPS on the stage's port, for handlers that build https://{domainName}/{stage} themselves.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // RS256 signatures of JWT authorizers' tokens.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "HandlersTests",
            dependencies: [
                "Handlers", "SQLiteStore",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Test helpers shared by several test targets (child processes that tests talk to).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SQLiteStoreTests", dependencies: ["SQLiteStore", "Handlers"]),
        .testTarget(
            name: "AWSSigV4Tests",
            dependencies: ["AWSSigV4", "DynamoDBStore", "ManagementAPIClient", "TestSupport"],
            exclude: ["botocore_sigv4.py", "sigv4_verifier.py"]
        ),
        // Every Store implementation against the same behaviours: SQLite, and DynamoDB on moto_server.
        .testTarget(name: "StoreConformanceTests", dependencies: ["Handlers", "SQLiteStore", "DynamoDBStore"]),
        .testTarget(name: "DynamoDBStoreTests", dependencies: ["DynamoDBStore", "AWSSigV4", "Handlers"]),
        // The provider against Tests/Integration/openai_test_server.py (scripted failures), plus its parsers.
        .testTarget(
            name: "OpenAIProviderTests",
            dependencies: [
                "OpenAIProvider", "Handlers", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "LocalRuntimeTests", dependencies: [
            "LocalRuntime", "Handlers", "SQLiteStore",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
