import CIPTRTPProxyTLS
import Glibc
import IPTRTPProxyPOSIX
import Testing
@testable import IPTRTPProxyTLS

/// TLS sessions over real sockets, driven the non-blocking way the relay's poll loop and
/// ControlSocket drive them, with certificates from Tests/e2e/lib/make-certs.sh.
@Suite("TLS sessions")
struct TLSSessionTests {
    @Test("a client and a relay session complete the handshake and exchange lines both ways")
    func linesBothWays() throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let client = try TLSSession(clientOn: sockets.client, context: try clientContext(certificates), expectedHost: "127.0.0.1")
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))

        let (c, s) = handshake(client, server)
        #expect(c == .done)
        #expect(s == .done)

        let end = deadline()
        #expect(writeAll(client, Array("iptrtp/2 1 ping\n".utf8), deadline: end) == .bytes(16))
        #expect(try readLine(server, deadline: end).get() == "iptrtp/2 1 ping")
        #expect(writeAll(server, Array("iptrtp/2 1 ok pong\n".utf8), deadline: end) == .bytes(19))
        #expect(try readLine(client, deadline: end).get() == "iptrtp/2 1 ok pong")

        #expect(client.peerDescription.hasPrefix("TLSv1.3 "))
        #expect(client.peerDescription.hasSuffix("peer /CN=iptrtpproxy-test-relay"))
        #expect(server.peerDescription.hasSuffix("no peer certificate"))

        // A clean close reaches the other end as .closed.
        client.close()
        #expect(readLine(server, deadline: end) == .failure(.init(.closed)))
    }

    @Test("both ends derive the same 32-byte channel binding, and another connection a different one")
    func channelBinding() throws {
        let certificates = try TestCertificates.shared()
        var bindings: [[UInt8]] = []
        for _ in 0..<2 {
            let sockets = SocketPair()
            let client = try TLSSession(clientOn: sockets.client, context: try clientContext(certificates), expectedHost: "localhost")
            let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
            #expect(client.channelBinding() == nil, "no binding before the handshake")
            #expect(handshake(client, server) == (.done, .done))
            let ours = try #require(client.channelBinding())
            let theirs = try #require(server.channelBinding())
            #expect(ours.count == 32)
            #expect(ours == theirs)
            #expect(ours != [UInt8](repeating: 0, count: 32))
            bindings.append(ours)
        }
        #expect(bindings[0] != bindings[1])
    }

    @Test("a TLS 1.2 client is served too, and both ends derive the same binding")
    func tls12() throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let context = try clientContext(certificates)
        #expect(ipt_tls_ctx_set_max_proto_version(context.handle, TLS1_2_VERSION) == 1)
        let client = try TLSSession(clientOn: sockets.client, context: context, expectedHost: "127.0.0.1")
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
        #expect(handshake(client, server) == (.done, .done))
        #expect(server.peerDescription.hasPrefix("TLSv1.2 "))
        let ours = try #require(client.channelBinding())
        #expect(ours.count == 32)
        #expect(ours == server.channelBinding())
    }

    @Test("the relay refuses a client that offers only TLS 1.1")
    func belowTLS12() throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let context = try clientContext(certificates)
        // A client willing to speak TLS 1.1 (security level 0 lets OpenSSL offer it at all).
        SSL_CTX_set_security_level(context.handle, 0)
        #expect(ipt_tls_ctx_set_min_proto_version(context.handle, TLS1_1_VERSION) == 1)
        #expect(ipt_tls_ctx_set_max_proto_version(context.handle, TLS1_1_VERSION) == 1)
        let client = try TLSSession(clientOn: sockets.client, context: context, expectedHost: "127.0.0.1")
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
        let (_, s) = handshake(client, server)
        guard case .failed(let reason) = s else { Issue.record("relay: \(s)"); return }
        #expect(reason.contains("unsupported protocol"), "\(reason)")
    }

    @Test("a megabyte crosses each way through partial writes, wantWrite and buffered input")
    func bulkBothWays() throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let client = try TLSSession(clientOn: sockets.client, context: try clientContext(certificates), expectedHost: "::1")
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
        #expect(handshake(client, server) == (.done, .done))

        let data = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        for (from, to) in [(client, server), (server, client)] {
            var sent = 0
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 3000)  // smaller than a record: leaves input buffered
            var sawWantWrite = false
            let end = deadline()
            while received.count < data.count && MonotonicClock.milliseconds() < end {
                // Write until the socket is full (one thread plays both ends: nothing blocks).
                writing: while sent < data.count {
                    switch data.withUnsafeBytes({ from.write(UnsafeRawBufferPointer(rebasing: $0[sent...])) }) {
                    case .bytes(let n): sent += n
                    case .wantWrite: sawWantWrite = true; break writing
                    case let other: Issue.record("write: \(other)"); return
                    }
                }
                // Then read all there is, decrypted bytes held by OpenSSL included.
                reading: while true {
                    switch chunk.withUnsafeMutableBytes({ to.read(into: $0) }) {
                    case .bytes(let n): received += chunk[0..<n]
                    case .wantRead:
                        if to.hasBufferedInput { Issue.record("wantRead with buffered input") }
                        break reading
                    case let other: Issue.record("read: \(other)"); return
                    }
                }
            }
            #expect(sawWantWrite, "1 MiB must fill a socket buffer")
            #expect(received.count == data.count)
            #expect(received == data)
        }
    }

    @Test("a client that trusts another CA refuses the relay's certificate, with the reason")
    func unknownCA() throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let client = try TLSSession(clientOn: sockets.client, context: try clientContext(certificates, ca: certificates.otherCA), expectedHost: "127.0.0.1")
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
        let (c, s) = handshake(client, server)
        guard case .failed(let reason) = c else { Issue.record("client: \(c)"); return }
        #expect(reason.hasPrefix("TLS handshake failed: "))
        #expect(reason.contains("certificate verify failed"))
        #expect(reason.hasSuffix("(unable to get local issuer certificate)"))
        guard case .failed(let relayReason) = s else { Issue.record("relay: \(s)"); return }
        #expect(relayReason.contains("alert unknown ca"))
        #expect(client.channelBinding() == nil)
    }

    @Test("the relay's certificate must name the host the client dialled", arguments: [
        ("relay.example.net", "hostname mismatch"),
        ("127.0.0.2", "IP address mismatch"),
        ("::2", "IP address mismatch"),
        ("127.0.0.1", nil),
        ("::1", nil),
        ("localhost", nil),
    ])
    func hostChecked(host: String, failure: String?) throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let client = try TLSSession(clientOn: sockets.client, context: try clientContext(certificates), expectedHost: host)
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
        let (c, _) = handshake(client, server)
        if let failure {
            guard case .failed(let reason) = c else { Issue.record("\(host): \(c)"); return }
            #expect(reason.hasSuffix("(\(failure))"), "\(reason)")
        } else {
            #expect(c == .done)
        }
    }

    @Test("a relay with a client CA refuses a client without a certificate or with one of another CA")
    func clientCertificateRequired() throws {
        let certificates = try TestCertificates.shared()
        let relay = try serverContext(certificates, clientCA: certificates.ca)

        // No certificate: TLS 1.3 finishes the client's handshake first; the relay's alert then
        // fails the client's first read.
        do {
            let sockets = SocketPair()
            let client = try TLSSession(clientOn: sockets.client, context: try clientContext(certificates), expectedHost: "127.0.0.1")
            let server = try TLSSession(serverOn: sockets.server, context: relay)
            let (c, s) = handshake(client, server)
            guard case .failed(let reason) = s else { Issue.record("relay: \(s)"); return }
            #expect(reason.contains("peer did not return a certificate"))
            if c == .done {
                guard case .failure(let e) = readLine(client, deadline: deadline()), case .failed(let clientReason) = e.outcome else {
                    Issue.record("client read after a refused certificate")
                    return
                }
                #expect(clientReason.contains("alert certificate required"))
            } else {
                guard case .failed = c else { Issue.record("client: \(c)"); return }
            }
        }
        // A certificate of another CA.
        do {
            let sockets = SocketPair()
            let context = try clientContext(
                certificates, certificate: certificates.otherClientCertificate, key: certificates.otherClientKey)
            let client = try TLSSession(clientOn: sockets.client, context: context, expectedHost: "127.0.0.1")
            let server = try TLSSession(serverOn: sockets.server, context: relay)
            let (_, s) = handshake(client, server)
            guard case .failed(let reason) = s else { Issue.record("relay: \(s)"); return }
            #expect(reason.contains("certificate verify failed"))
        }
        // The right certificate.
        do {
            let sockets = SocketPair()
            let context = try clientContext(certificates, certificate: certificates.clientCertificate, key: certificates.clientKey)
            let client = try TLSSession(clientOn: sockets.client, context: context, expectedHost: "127.0.0.1")
            let server = try TLSSession(serverOn: sockets.server, context: relay)
            #expect(handshake(client, server) == (.done, .done))
            #expect(server.peerDescription.hasSuffix("peer /CN=iptrtpproxy-test-client"))
            #expect(client.channelBinding() == server.channelBinding())
        }
    }

    @Test("bytes that are not TLS fail the relay's handshake cleanly", arguments: [
        Array("GET / HTTP/1.1\r\nHost: relay\r\n\r\n".utf8),
        Array("iptrtp/2 1 ping\n".utf8),
        (0..<600).map { UInt8(truncatingIfNeeded: $0 &* 193 &+ 17) },
        [0x16, 0x03, 0x01, 0xff, 0xff] + [UInt8](repeating: 0x41, count: 300),  // a record header claiming 64 KiB
    ])
    func garbage(bytes: [UInt8]) throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
        _ = bytes.withUnsafeBytes { send(sockets.client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(sockets.client, Int32(SHUT_WR))
        let end = deadline()
        var progress = server.handshake()
        while progress == .wantRead || progress == .wantWrite {
            guard waitFor(server.fd, Int16(progress == .wantRead ? POLLIN : POLLOUT), deadline: end) else { break }
            progress = server.handshake()
        }
        guard case .failed(let reason) = progress else { Issue.record("\(progress)"); return }
        #expect(reason.hasPrefix("TLS handshake failed: "))
        #expect(!reason.contains("\n"))
        server.close()
        server.close()
        #expect(server.handshake() == .failed("TLS session is closed"))
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(buffer.withUnsafeMutableBytes { server.read(into: $0) } == .failed("TLS session is closed"))
    }

    @Test("a peer that connects and hangs up fails the handshake as a closed connection")
    func hangUpDuringHandshake() throws {
        let certificates = try TestCertificates.shared()
        let sockets = SocketPair()
        let server = try TLSSession(serverOn: sockets.server, context: try serverContext(certificates))
        #expect(server.handshake() == .wantRead)
        shutdown(sockets.client, Int32(SHUT_RDWR))
        #expect(waitFor(server.fd, Int16(POLLIN), deadline: deadline()))
        #expect(server.handshake() == .failed("TLS handshake failed: connection closed by the peer"))
    }

    @Test("context errors name the file and OpenSSL's reason")
    func contextErrors() throws {
        let certificates = try TestCertificates.shared()
        #expect {
            try TLSContext.server(certificateFile: "/nonexistent/relay.pem", keyFile: certificates.serverKey, clientCAFile: nil)
        } throws: { e in
            let message = (e as? TLSError)?.message ?? ""
            return message.hasPrefix("tls: cannot load certificate file '/nonexistent/relay.pem': ") && message.contains("No such file or directory")
        }
        #expect {
            try TLSContext.server(certificateFile: certificates.serverCertificate, keyFile: certificates.clientKey, clientCAFile: nil)
        } throws: { e in
            ((e as? TLSError)?.message ?? "").hasPrefix("tls: key file '\(certificates.clientKey)' does not belong to certificate file '\(certificates.serverCertificate)': ")
        }
        #expect {
            try TLSContext.server(certificateFile: certificates.serverKey, keyFile: certificates.serverKey, clientCAFile: nil)
        } throws: { e in
            ((e as? TLSError)?.message ?? "").hasPrefix("tls: cannot load certificate file '\(certificates.serverKey)': ")
        }
        #expect {
            try TLSContext.client(caFile: "/nonexistent/ca.pem", certificateFile: nil, keyFile: nil)
        } throws: { e in
            ((e as? TLSError)?.message ?? "").hasPrefix("tls: cannot load CA file '/nonexistent/ca.pem': ")
        }
        #expect(throws: TLSError("tls: key file '/k.pem' given without a certificate file")) {
            try TLSContext.client(caFile: certificates.ca, certificateFile: nil, keyFile: "/k.pem")
        }
        let sockets = SocketPair()
        #expect(throws: TLSError("tls: a server session needs a server context")) {
            try TLSSession(serverOn: sockets.server, context: try clientContext(certificates))
        }
        #expect(throws: TLSError("tls: a client session needs a client context")) {
            try TLSSession(clientOn: sockets.client, context: try serverContext(certificates), expectedHost: "127.0.0.1")
        }
    }
}
