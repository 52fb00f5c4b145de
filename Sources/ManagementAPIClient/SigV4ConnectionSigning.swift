import AWSSigV4
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension HTTPConnectionPoster {
    /// A poster for AWS: each post is signed with SigV4 for `execute-api`, as the `@connections`
    /// API accepts only requests signed by a role allowed `execute-api:ManageConnections` — which a
    /// Lambda function is, through the credentials Lambda puts in its environment
    /// (`SigV4Signer(service: "execute-api", environment:)`).
    public init(client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10), signingWith signer: SigV4Signer) {
        self.init(client: client, timeout: timeout) { request, body in
            let unsigned = SignableRequest(method: request.method.rawValue, url: request.url,
                                           headers: request.headers.map { (name: $0.name, value: $0.value) }, body: body)
            let signed = try signer.sign(unsigned, at: Date())
            request.headers = HTTPHeaders(signed.headers.map { ($0.name, $0.value) })
        }
    }
}
