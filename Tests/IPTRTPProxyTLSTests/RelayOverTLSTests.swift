import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS
import Logging
import RTPRelay
import Testing
@testable import IPTRTPProxyClient

/// A relay's TLS control listener driven by the client library: the certificate is verified, the
/// challenge is bound to the TLS session, and client certificates are asked for where configured.
@Suite("relay control over TLS")
struct RelayOverTLSTests {
    static let secret = "5e1f0b7a9c3d2e4f6a8b0c1d2e3f4a5b"

    func relay(port: UInt16, clientCA: String? = nil) throws -> (RelayEngine, ControlServer, Endpoint) {
        let certs = try TestCertificates.shared()
        let sw = Switchboard(
            name: "pub", gateA: Gate(address: IPAddress("127.0.41.1")!, basePort: port),
            gateB: Gate(address: IPAddress("127.0.41.2")!, basePort: port), maxSessions: 4)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let engine = RelayEngine(configuration: RelayConfiguration(
            switchboards: SwitchboardSet([sw]), workerCount: 1, housekeepingInterval: 0, logger: logger))
        try engine.start()
        let endpoint = Endpoint(address: IPAddress("127.0.0.1")!, port: port + 100)
        let server = ControlServer(engine: engine, endpoints: .init(
            tls: endpoint, tlsContext: try .server(
                certificateFile: certs.serverCertificate, keyFile: certs.serverKey, clientCAFile: clientCA),
            secret: Self.secret), logger: logger)
        try server.start()
        return (engine, server, endpoint)
    }

    @Test("a client that trusts the relay's CA and holds the secret allocates over TLS")
    func allocatesOverTLS() throws {
        let certs = try TestCertificates.shared()
        let (engine, server, endpoint) = try relay(port: 34100)
        defer { server.stop(); engine.stop() }
        let client = try RelayControlClient(
            "tls:127.0.0.1:\(endpoint.port)", secret: Self.secret, tls: .client(caFile: certs.ca, certificateFile: nil, keyFile: nil))
        try client.ping()
        let s = try client.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect(try client.list().sessions.map(\.handle) == [s.handle])
        try client.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)

        let wrongSecret = try RelayControlClient(
            "tls:127.0.0.1:\(endpoint.port)", secret: Self.secret + "0", tls: .client(caFile: certs.ca, certificateFile: nil, keyFile: nil))
        #expect { try wrongSecret.ping() } throws: { ($0 as? MediaPlaneError)?.message.hasSuffix("wrong secret") == true }
        let otherCA = try RelayControlClient(
            "tls:127.0.0.1:\(endpoint.port)", secret: Self.secret, tls: .client(caFile: certs.otherCA, certificateFile: nil, keyFile: nil))
        #expect { try otherCA.ping() } throws: { ($0 as? MediaPlaneError)?.message.contains("TLS handshake failed") == true }
        #expect(engine.statistics().sessionsAllocated == 1)
    }

    @Test("a proof made for plain TCP is refused on TLS: the challenge is bound to the TLS session")
    func proofBoundToSession() throws {
        let certs = try TestCertificates.shared()
        let (engine, server, endpoint) = try relay(port: 34200)
        defer { server.stop(); engine.stop() }
        let socket = try ControlSocket(
            .tls(host: "127.0.0.1", endpoint: endpoint), timeout: 2000,
            tls: .client(caFile: certs.ca, certificateFile: nil, keyFile: nil))
        let deadline = MonotonicClock.milliseconds() + 2000
        let greeting = try ControlGreeting(parsing: socket.readLine(deadline: deadline, maxLength: 512))
        #expect(greeting.authRequired)
        let nonce = ControlChallenge.newNonce()
        let tcpProof = ControlChallenge(serverNonce: greeting.serverNonce, binding: "tcp").clientProof(secret: Self.secret, clientNonce: nonce)
        try socket.write("iptrtp/2 1 auth \(nonce) \(tcpProof)", deadline: deadline)
        #expect(String(decoding: try socket.readLine(deadline: deadline, maxLength: 512), as: UTF8.self) == "iptrtp/2 1 error wrong secret")
    }

    @Test("with a client CA the relay takes only clients whose certificate it signed")
    func clientCertificates() throws {
        let certs = try TestCertificates.shared()
        let (engine, server, endpoint) = try relay(port: 34300, clientCA: certs.ca)
        defer { server.stop(); engine.stop() }
        let address = "tls:127.0.0.1:\(endpoint.port)"
        let anonymous = try RelayControlClient(address, secret: Self.secret, tls: .client(caFile: certs.ca, certificateFile: nil, keyFile: nil))
        #expect(throws: MediaPlaneError.self) { try anonymous.ping() }
        let stranger = try RelayControlClient(address, secret: Self.secret, tls: .client(
            caFile: certs.ca, certificateFile: certs.otherClientCertificate, keyFile: certs.otherClientKey))
        #expect(throws: MediaPlaneError.self) { try stranger.ping() }
        let known = try RelayControlClient(address, secret: Self.secret, tls: .client(
            caFile: certs.ca, certificateFile: certs.clientCertificate, keyFile: certs.clientKey))
        try known.ping()
    }
}
