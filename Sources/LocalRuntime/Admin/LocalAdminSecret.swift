import ArgumentParser
import Foundation
import Handlers

/// The HS256 secret the local admin API verifies tokens with: `ADMIN_JWT_SECRET` when set, else a
/// random secret kept beside the state file (created on first use, readable by its owner only),
/// so that `serve`, `invoke` and `local-runtime admin token` agree without configuration and no
/// two checkouts share a secret.
enum LocalAdminSecret {
    /// What `replay` uses unless the environment names one: fixtures are signed with it, and replay
    /// runs on a private in-memory store that nothing else can reach. 32 bytes at least, as any secret.
    static let replay = "local-runtime-replay-secret-for-admin-fixtures"

    static func resolve(statePath: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let configured = environment["ADMIN_JWT_SECRET"], !configured.trimmed().isEmpty { return configured }
        let directory = URL(fileURLWithPath: statePath).deletingLastPathComponent()
        let file = directory.appendingPathComponent("admin-jwt-secret")
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmed(), !existing.isEmpty { return existing }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        guard FileManager.default.createFile(atPath: file.path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write the local admin secret to \(file.path)")
        }
        return secret
    }

    /// `environment` with `ADMIN_JWT_SECRET` set to the local secret unless it names one.
    static func environment(_ environment: [String: String], statePath: String) throws -> [String: String] {
        var environment = environment
        environment["ADMIN_JWT_SECRET"] = try resolve(statePath: statePath, environment: environment)
        return environment
    }
}
