import ArgumentParser
import Foundation
import Handlers

/// Runs one admin API request through the `admin` function, in-process against the local state,
/// with a token signed for the local secret: the CLI sees exactly what an HTTP client would.
struct AdminRequest {
    var method: String
    /// Below `/api/admin/`, e.g. `widgets` or `widgets/widget_abc…`.
    var path: String
    var query: [String: String] = [:]
    var body: String?

    /// The query as API Gateway passes it on: percent-encoded, as the client sent it.
    var rawQueryString: String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+;")
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        return query.sorted { $0.key < $1.key }.map { "\(encoded($0.key))=\(encoded($0.value))" }.joined(separator: "&")
    }

    func event(token: String, now: Date) -> APIGatewayV2Request {
        let rawPath = "/api/admin/\(path)"
        let routeKey = "ANY /api/admin/{proxy+}"
        var headers = ["authorization": "Bearer \(token)", "user-agent": "local-runtime"]
        if body != nil { headers["content-type"] = "application/json" }
        return APIGatewayV2Request(
            routeKey: routeKey, rawPath: rawPath,
            rawQueryString: rawQueryString, cookies: nil,
            headers: headers, queryStringParameters: query.isEmpty ? nil : query, pathParameters: ["proxy": path],
            requestContext: .init(accountId: "000000000000", apiId: "local", domainName: "localhost", domainPrefix: "local",
                                  http: .init(method: method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "local-runtime"),
                                  requestId: AWSIdentifiers.requestId(), routeKey: routeKey, stage: "$default",
                                  time: AWSIdentifiers.requestTime(now), timeEpoch: AWSIdentifiers.epochMillis(now)),
            body: body, isBase64Encoded: false)
    }
}

/// Options every admin command shares: where the state is, and the template naming the function.
struct AdminOptions: ParsableArguments {
    @Option(name: .long, help: "The SQLite state file (default: STATE_PATH, else .local-runtime/state.sqlite).")
    var state = StatePath.default

    @Option(name: .long, help: "Where state lives: sqlite (the --state file) or dynamodb (TABLE_NAME, AWS credentials and region from the environment).")
    var store: StoreOption = .sqlite

    @OptionGroup var templateOptions: TemplateOptions

    /// Sends `request` and prints the response body; a non-2xx answer prints the API's message and
    /// exits 1.
    func send(_ request: AdminRequest) async throws {
        let template = try templateOptions.load()
        guard let function = template.functions.values.first(where: { $0.builtIn == .admin }) else {
            throw ValidationError("\(templateOptions.path) declares no function with Handler admin")
        }
        let environment = try LocalAdminSecret.environment(ProcessInfo.processInfo.environment, statePath: state)
        let store = try await self.store.open(statePath: state, environment: environment)
        let functions = LocalFunctions(template: template, store: store, clock: SystemClock(), poster: CollectingPoster(),
                                       processEnvironment: environment)
        let now = Date()
        let token = AdminToken.sign(subject: "local-runtime", access: .write, issuedAt: now, lifetime: 300,
                                    secret: environment["ADMIN_JWT_SECRET"] ?? "")
        let output = try await functions.invoke(function, payload: request.event(token: token, now: now).jsonBytes)
        let response = try JSONValue(parsing: output)
        let body = response["body"]?.stringValue ?? ""
        let status = response["statusCode"]?.intValue ?? 500
        guard (200..<300).contains(status) else {
            let message = (try? JSONValue(parsing: body))?["message"]?.stringValue ?? body
            FileHandle.standardError.write(Data("\(status): \(message)\n".utf8))
            throw ExitCode(1)
        }
        print(Self.pretty(body))
    }

    static func pretty(_ json: String) -> String {
        guard let value = try? JSONValue(parsing: json) else { return json }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? json
    }

    /// The JSON text of `file` (`-` for standard input).
    static func read(_ file: String) throws -> String {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data else { throw ValidationError("cannot read \(file)") }
        return String(decoding: data, as: UTF8.self)
    }
}

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The admin API from the command line: tokens, analytics, GDPR export and retention.",
        subcommands: [Token.self, Analytics.self, Export.self, Purge.self])

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints a bearer token for the local admin API (signed with ADMIN_JWT_SECRET, or the secret beside --state).")

        @Option(name: .long, help: "The state file whose secret signs the token (default: STATE_PATH, else .local-runtime/state.sqlite).")
        var state = StatePath.default

        @Option(name: .long, help: "Lifetime in seconds, at most ADMIN_TOKEN_MAX_LIFETIME_SECONDS (default 86400).")
        var ttl: Int = 3600

        @Flag(name: .long, help: "Issue an admin:read token (reads only) instead of admin.")
        var readOnly = false

        @Option(name: .long, help: "The token's subject (sub claim).")
        var subject = "local-admin"

        func validate() throws {
            // The admin API refuses a token that lives longer than its maximum, so none is issued.
            let maximum = Int(Configuration(environment: ProcessInfo.processInfo.environment).adminTokenMaxLifetime)
            guard (1...maximum).contains(ttl) else {
                throw ValidationError("--ttl must be 1 to \(maximum) seconds (ADMIN_TOKEN_MAX_LIFETIME_SECONDS)")
            }
        }

        func run() async throws {
            let secret = try LocalAdminSecret.resolve(statePath: state)
            // The admin API is disabled under a shorter secret: a token signed with it would only be refused.
            guard secret.trimmed().utf8.count >= AdminToken.minimumSecretBytes else {
                throw ValidationError("ADMIN_JWT_SECRET must be at least \(AdminToken.minimumSecretBytes) bytes")
            }
            print(AdminToken.sign(subject: subject, access: readOnly ? .read : .write, issuedAt: Date(), lifetime: TimeInterval(ttl), secret: secret))
        }
    }

    struct Analytics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Usage analytics: GET /api/admin/analytics/usage.")

        @Option(name: .long, help: "1d, 7d or 30d.")
        var period = "7d"

        @Option(name: .long, help: "Only this widget.")
        var widget: String?

        @OptionGroup var options: AdminOptions

        func run() async throws {
            var query = ["period": period]
            query["widget_id"] = widget
            try await options.send(AdminRequest(method: "GET", path: "analytics/usage", query: query))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "GDPR export of one domain: GET /api/admin/export.")

        @Option(name: .long, help: "The domain whose records to export.")
        var domain: String

        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await options.send(AdminRequest(method: "GET", path: "export", query: ["domain": domain]))
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Removes conversations, security events and usage past RETENTION_DAYS: POST /api/admin/retention/purge.")

        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await options.send(AdminRequest(method: "POST", path: "retention/purge"))
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Security events, newest first: GET /api/admin/security/events.")

    @Option(name: .long, help: "Only this type (rate_limit, suspicious_content, domain_not_allowed, ...).")
    var type: String?

    @Option(name: .long, help: "How far back, in hours.")
    var hours: Int = 24

    @Option(name: .long, help: "Only this widget.")
    var widget: String?

    @Option(name: .long, help: "At most this many events.")
    var limit: Int = 100

    @OptionGroup var options: AdminOptions

    func run() async throws {
        var query = ["hours": "\(hours)", "limit": "\(limit)"]
        query["type"] = type
        query["widget_id"] = widget
        try await options.send(AdminRequest(method: "GET", path: "security/events", query: query))
    }
}

struct Widgets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Widget configurations through the admin API (/api/admin/widgets).",
        subcommands: [Add.self, List.self, Get.self, Update.self, Deactivate.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates a widget from --domain/--name/--id, or from a JSON body (--json FILE or -: widget_id, name, allowed_domains, is_active, limits, settings; or the legacy widget body).")

        @Option(name: .long, help: "An allowed domain (repeat for several).")
        var domain: [String] = []

        @Option(name: .long, help: "The widget's name.")
        var name: String?

        @Option(name: .long, help: "The widget id (^widget_[a-z0-9_]{12,64}$); generated when omitted.")
        var id: String?

        @Option(name: .long, help: "A JSON body file, or - for standard input; --domain/--name/--id override its fields.")
        var json: String?

        @OptionGroup var options: AdminOptions

        func run() async throws {
            var body: [String: JSONValue] = [:]
            if let json {
                guard case .object(let object)? = try? JSONValue(parsing: try AdminOptions.read(json)) else {
                    throw ValidationError("\(json) does not hold a JSON object")
                }
                body = object
            }
            if !domain.isEmpty { body["allowed_domains"] = .array(domain.map(JSONValue.string)) }
            if let name {
                body["name"] = .string(name)
                body["widget_name"] = nil
            }
            if let id { body["widget_id"] = .string(id) }
            if body["name"] == nil, body["widget_name"] == nil, let first = body["allowed_domains"]?.arrayValue?.first?.stringValue {
                body["name"] = .string(first)
            }
            try await options.send(AdminRequest(method: "POST", path: "widgets", body: JSONCoding.string(JSONValue.object(body))))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists widgets, a page at a time.")

        @Option(name: .long, help: "Widgets per page (1-100).")
        var limit: Int = 50

        @Option(name: .long, help: "Start after this widget id (the previous page's next_cursor).")
        var cursor: String?

        @OptionGroup var options: AdminOptions

        func run() async throws {
            var query = ["limit": "\(limit)"]
            query["cursor"] = cursor
            try await options.send(AdminRequest(method: "GET", path: "widgets", query: query))
        }
    }

    /// The one widget a command acts on (`widgets/{id}`), and the admin API it asks.
    struct WidgetTarget: ParsableArguments {
        @Argument(help: "The widget id.")
        var id: String

        @OptionGroup var options: AdminOptions

        func send(_ method: String, body: String? = nil) async throws {
            try await options.send(AdminRequest(method: method, path: "widgets/\(id)", body: body))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows one widget.")

        @OptionGroup var widget: WidgetTarget

        func run() async throws {
            try await widget.send("GET")
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Changes a widget with a JSON body of the fields to change (PATCH).")

        @OptionGroup var widget: WidgetTarget

        @Option(name: .long, help: "The JSON body file, or - for standard input.")
        var json: String

        func run() async throws {
            try await widget.send("PATCH", body: try AdminOptions.read(json))
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivates a widget (DELETE); its record stays for analytics and export.")

        @OptionGroup var widget: WidgetTarget

        func run() async throws {
            try await widget.send("DELETE")
        }
    }
}
