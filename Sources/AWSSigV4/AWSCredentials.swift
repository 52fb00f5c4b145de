#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The keys a request is signed with. In Lambda they are the execution role's temporary
/// credentials, which always come with a session token.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, where Lambda
    /// puts the execution role's credentials; an empty session token counts as none.
    public init(environment: [String: String]) throws(AWSEnvironmentError) {
        guard let accessKeyId = environment["AWS_ACCESS_KEY_ID"], !accessKeyId.isEmpty else {
            throw AWSEnvironmentError(missing: "AWS_ACCESS_KEY_ID")
        }
        guard let secretAccessKey = environment["AWS_SECRET_ACCESS_KEY"], !secretAccessKey.isEmpty else {
            throw AWSEnvironmentError(missing: "AWS_SECRET_ACCESS_KEY")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: token)
    }
}

/// A setting AWS calls need is absent from the environment.
public struct AWSEnvironmentError: Error, Equatable, CustomStringConvertible {
    public var missing: String

    public init(missing: String) {
        self.missing = missing
    }

    public var description: String { "\(missing) is not set: AWS requests cannot be signed without it" }
}
