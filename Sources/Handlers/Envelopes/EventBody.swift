#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a request body could not be read; handlers turn these into `invalid_request` or `payload_too_large`.
public enum BodyError: Error, Equatable, Sendable {
    case invalidBase64
    case tooLarge(limit: Int)
}

/// Decodes the `body` + `isBase64Encoded` pair every API Gateway envelope carries.
public enum EventBody {
    /// The raw bytes of a body, base64-decoded when API Gateway marked it so, refused above `limit` bytes.
    public static func bytes(_ body: String?, isBase64Encoded: Bool, limit: Int) throws(BodyError) -> [UInt8] {
        guard let body else { return [] }
        if isBase64Encoded {
            // Checked before decoding so a hostile body never costs a full allocation.
            guard body.utf8.count / 4 * 3 <= limit + 3 else { throw .tooLarge(limit: limit) }
            guard let data = Data(base64Encoded: body, options: .ignoreUnknownCharacters) else {
                throw .invalidBase64
            }
            guard data.count <= limit else { throw .tooLarge(limit: limit) }
            return Array(data)
        }
        guard body.utf8.count <= limit else { throw .tooLarge(limit: limit) }
        return Array(body.utf8)
    }
}
