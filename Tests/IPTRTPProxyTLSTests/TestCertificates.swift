import Glibc

/// The certificates of Tests/e2e/lib/make-certs.sh (the script itself runs, so the unit tests and
/// the end-to-end tests use the same ones), made once per test run in a fresh temp folder that is
/// removed when the run ends.
struct TestCertificates: Sendable {
    let folder: String

    /// The test CA; `server`, `client` are signed by it.
    var ca: String { folder + "/ca.pem" }
    /// The relay's certificate: IP 127.0.0.1, IP ::1, DNS localhost.
    var serverCertificate: String { folder + "/server.pem" }
    var serverKey: String { folder + "/server.key" }
    var clientCertificate: String { folder + "/client.pem" }
    var clientKey: String { folder + "/client.key" }
    /// A CA that signed nothing of the above.
    var otherCA: String { folder + "/other-ca.pem" }
    /// A client certificate signed by the other CA.
    var otherClientCertificate: String { folder + "/other-client.pem" }
    var otherClientKey: String { folder + "/other-client.key" }

    /// Made on first use.
    static func shared() throws -> TestCertificates { try made.get() }

    private static let made: Result<TestCertificates, any Error> = {
        var template = Array("/tmp/iptrtpproxy-tls-test-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { return .failure(SetupError("mkdtemp: \(String(cString: strerror(errno)))")) }
        let folder = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        atexit { try? run(["/bin/rm", "-rf", (try? TestCertificates.made.get())?.folder ?? "/nonexistent"]) }
        do {
            try run(["/bin/bash", scriptPath, folder])
        } catch {
            return .failure(error)
        }
        return .success(TestCertificates(folder: folder))
    }()

    /// Tests/e2e/lib/make-certs.sh, found from this file's place in the repository.
    private static var scriptPath: String {
        // #filePath is .../Tests/IPTRTPProxyTLSTests/TestCertificates.swift
        let tests = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(2)
        return (tests + ["e2e", "lib", "make-certs.sh"]).joined(separator: "/")
    }

    struct SetupError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs a program to its end, its output thrown away; throws unless it exits with 0.
    private static func run(_ arguments: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard rc == 0 else { throw SetupError("\(arguments[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw SetupError("\(arguments.joined(separator: " ")) failed (status \(status))") }
    }
}
