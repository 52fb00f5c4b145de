import Foundation

/// A certificate authority of this machine only, made on first run in the state folder's `tls/`
/// (keys 0600, folder 0700) with `openssl`, and a certificate it signs for the stage's names. The
/// functions trust it through the variables the AWS SDKs and language runtimes read, so that a
/// handler posting to `https://{domainName}/{stage}` reaches the stage unchanged.
struct LocalCertificateAuthority: Sendable {
    /// The authority's certificate: what a client adds to its trust store.
    let caCertificate: String
    /// The system's trusted certificates followed by the authority's, for variables that replace
    /// the trust store (`AWS_CA_BUNDLE`, `SSL_CERT_FILE`): a function still reaches real AWS.
    let bundle: String
    let serverCertificate: String
    let serverKey: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The variables that make Python (botocore, requests, ssl) and Node trust the authority.
    var functionEnvironment: [String: String] {
        ["AWS_CA_BUNDLE": bundle, "REQUESTS_CA_BUNDLE": bundle, "SSL_CERT_FILE": bundle, "NODE_EXTRA_CA_CERTS": caCertificate]
    }

    /// The authority in `directory` (made if missing) and a fresh server certificate for
    /// localhost, 127.0.0.1, ::1 and `host`.
    static func prepare(in directory: String, host: String) throws -> LocalCertificateAuthority {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
        let authority = LocalCertificateAuthority(caCertificate: file("ca.pem"), bundle: file("ca-bundle.pem"),
                                                  serverCertificate: file("server.pem"), serverKey: file("server.key"))
        if !FileManager.default.fileExists(atPath: file("ca.pem")) || !FileManager.default.fileExists(atPath: file("ca.key")) {
            try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "3650",
                         "-subj", "/CN=local-runtime development CA (this machine only)",
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        let names = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"] + (Self.isAddress(host) ? ["IP:\(host)"] : ["DNS:\(host)"])
        let extensions = """
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth
            subjectKeyIdentifier=hash
            authorityKeyIdentifier=keyid
            subjectAltName=\(Array(Set(names)).sorted().joined(separator: ","))

            """
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: file("server.ext")))
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost"])
        try openssl(["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
                     "-set_serial", "0x\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16))",
                     "-days", "825", "-extfile", file("server.ext"), "-out", file("server.pem")])
        for key in ["ca.key", "server.key"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file(key))
        }
        let system = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
            .lazy.compactMap { FileManager.default.contents(atPath: $0) }.first ?? Data()
        let ca = FileManager.default.contents(atPath: file("ca.pem")) ?? Data()
        try (system + Data("\n".utf8) + ca).write(to: URL(fileURLWithPath: file("ca-bundle.pem")))
        return authority
    }

    private static func isAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: StartLambda.resolve(["openssl"])[0])
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run openssl (\(error)); install it, or pass --no-tls")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.first ?? "") failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}
