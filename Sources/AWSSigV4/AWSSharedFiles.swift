#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The AWS CLI's and SDKs' shared files, read as they read them, for running outside Lambda:
/// credentials from `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`), settings such as
/// the region from `AWS_CONFIG_FILE` (default `~/.aws/config`), in the profile `AWS_PROFILE` names
/// (default `default`). In the config file a profile's section is `[profile NAME]`, except
/// `[default]`; in the credentials file it is `[NAME]`. Only what a file says is used; a missing or
/// unreadable file is the same as an empty one. Paths come from the environment given, never the
/// process's, so that callers decide what is read.
public struct AWSSharedFiles: Sendable {
    public let profile: String
    public let credentialsPath: String?
    public let configPath: String?

    public init(environment: [String: String]) {
        profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? home.map { "\($0)/.aws/credentials" }
        configPath = environment["AWS_CONFIG_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? home.map { "\($0)/.aws/config" }
    }

    /// The profile's keys from the credentials file (or, as the CLI allows, the config file).
    public func credentials() -> AWSCredentials? {
        for section in [credentialsSection, configSection] {
            if let accessKeyId = section["aws_access_key_id"], let secretAccessKey = section["aws_secret_access_key"],
               !accessKeyId.isEmpty, !secretAccessKey.isEmpty {
                return AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey,
                                      sessionToken: section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 })
            }
        }
        return nil
    }

    /// The profile's `region` from the config file.
    public func region() -> String? {
        configSection["region"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private var credentialsSection: [String: String] {
        credentialsPath.map { Self.section(profile, in: $0) } ?? [:]
    }

    private var configSection: [String: String] {
        configPath.map { Self.section(profile == "default" ? "default" : "profile \(profile)", in: $0) } ?? [:]
    }

    /// The `key = value` lines of `[name]` in the INI file at `path`; keys lower-cased. Indented lines
    /// (a nested setting's sub-keys) and comments are skipped.
    static func section(_ name: String, in path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var values: [String: String] = [:]
        var inSection = false
        for rawLine in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let first = rawLine.first, first != " ", first != "\t" else { continue }
            let line = Self.trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                let header = line.dropFirst().dropLast().split(whereSeparator: \.isWhitespace).joined(separator: " ")
                inSection = header == name
                continue
            }
            guard inSection, let equals = line.firstIndex(of: "=") else { continue }
            values[Self.trimmed(line[..<equals]).lowercased()] = Self.trimmed(line[line.index(after: equals)...])
        }
        return values
    }

    private static func trimmed(_ text: some StringProtocol) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension AWSCredentials {
    /// The credentials the AWS SDKs would use: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with
    /// `AWS_SESSION_TOKEN`) when the environment sets them, as Lambda does; otherwise the shared
    /// credentials file's profile. Throws naming the variable that is missing when neither has them.
    public static func resolve(environment: [String: String]) throws(AWSEnvironmentError) -> AWSCredentials {
        let inEnvironment = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].contains { !(environment[$0] ?? "").isEmpty }
        if !inEnvironment, let shared = AWSSharedFiles(environment: environment).credentials() { return shared }
        return try AWSCredentials(environment: environment)
    }
}

extension SigV4Signer {
    /// The region the AWS SDKs would use: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's
    /// `region` in the shared config file.
    public static func region(environment: [String: String]) -> String? {
        ["AWS_REGION", "AWS_DEFAULT_REGION"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
            ?? AWSSharedFiles(environment: environment).region()
    }
}
