import CIPTRTPProxyTLS
import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// TLS over one connected, non-blocking stream socket: the relay's side of a control connection
/// (driven by the control server's poll loop) or a client's (driven by `ControlSocket`).
///
/// Every call returns at once. Drive it like the socket it wraps:
///
///     handshake() until .done; on .wantRead poll for POLLIN, on .wantWrite for POLLOUT, then call again
///     read(into:) / write(_:) the same way; after a read, while hasBufferedInput, read again
///     before polling: OpenSSL may hold decrypted bytes the socket no longer signals
///
/// On `.failed` or `.closed`, call `close()` and close the socket. The session never closes the
/// socket: its creator owns the descriptor and closes it after `close()` (or after the session
/// is released).
///
/// A session belongs to one thread at a time (OpenSSL's rule for an SSL object), so it is not
/// Sendable; hand it over only together with its connection.
public final class TLSSession {
    /// The SSL object; nil once closed.
    private var ssl: OpaquePointer?
    /// What the BIO saw on the socket; freed after the SSL object (which holds the BIO).
    private let socketState: UnsafeMutablePointer<SocketBIOState>
    /// A fatal error happened: OpenSSL forbids SSL_shutdown after one.
    private var failed = false

    /// The socket the session runs over.
    public var fd: Int32 { socketState.pointee.fd }

    /// The relay's side of a connection accepted on `fd`, with a server context.
    public convenience init(serverOn fd: Int32, context: TLSContext) throws {
        guard context.role == .server else { throw TLSError("tls: a server session needs a server context") }
        try self.init(fd: fd, context: context)
        SSL_set_accept_state(ssl)
    }

    /// A client's side of a connection made on `fd` to `expectedHost`, the host it dialled: an IP
    /// address (v4, or v6 without brackets) or a DNS name. The handshake fails unless the relay's
    /// certificate is signed by the context's CA and names that host (a subjectAltName IP address
    /// for an IP, a DNS name otherwise; a DNS name is also sent as SNI).
    public convenience init(clientOn fd: Int32, context: TLSContext, expectedHost: String) throws {
        guard context.role == .client else { throw TLSError("tls: a client session needs a client context") }
        guard !expectedHost.isEmpty else { throw TLSError("tls: no host to verify the relay's certificate against") }
        try self.init(fd: fd, context: context)
        OpenSSLErrors.clear()
        if IPAddress(expectedHost) != nil {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), expectedHost) == 1 else {
                throw TLSError("tls: cannot verify against address '\(expectedHost)': \(OpenSSLErrors.drain())")
            }
        } else {
            guard SSL_set1_host(ssl, expectedHost) == 1, ipt_tls_set_tlsext_host_name(ssl, expectedHost) == 1 else {
                throw TLSError("tls: cannot verify against host name '\(expectedHost)': \(OpenSSLErrors.drain())")
            }
        }
        SSL_set_connect_state(ssl)
    }

    private init(fd: Int32, context: TLSContext) throws {
        OpenSSLErrors.clear()
        guard let ssl = SSL_new(context.handle) else {
            throw TLSError("tls: cannot create a session: \(OpenSSLErrors.drain(or: "out of memory"))")
        }
        let state = UnsafeMutablePointer<SocketBIOState>.allocate(capacity: 1)
        state.initialize(to: SocketBIOState(fd: fd))
        guard let bio = SocketBIO.make(state) else {
            SSL_free(ssl)
            state.deallocate()
            throw TLSError("tls: cannot create a session: \(OpenSSLErrors.drain(or: "out of memory"))")
        }
        SSL_set_bio(ssl, bio, bio)
        self.ssl = ssl
        socketState = state
    }

    deinit {
        close()
        socketState.deinitialize(count: 1)
        socketState.deallocate()
    }

    /// One step of the handshake.
    public func handshake() -> TLSProgress {
        guard let ssl else { return .failed("TLS session is closed") }
        begin()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done }
        switch failure(of: rc) {
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .failed("TLS handshake failed: connection closed by the peer")
        case .failed(let reason):
            let verdict = SSL_get_verify_result(ssl)
            guard verdict != X509_V_OK else { return .failed("TLS handshake failed: \(reason)") }
            let check = String(cString: X509_verify_cert_error_string(Int(verdict)))
            return .failed("TLS handshake failed: \(reason) (\(check))")
        case .bytes: return .failed("TLS handshake failed")  // not a failure outcome; unreachable
        }
    }

    /// Reads decrypted bytes into `buffer`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIO {
        guard let ssl else { return .failed("TLS session is closed") }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        begin()
        var count = 0
        if SSL_read_ex(ssl, base, buffer.count, &count) == 1 { return .bytes(count) }
        return failure(of: 0)
    }

    /// Encrypts and sends bytes of `buffer` (one TLS record at most per call: advance by the
    /// count returned and call again for the rest).
    public func write(_ buffer: UnsafeRawBufferPointer) -> TLSIO {
        guard let ssl else { return .failed("TLS session is closed") }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        begin()
        var count = 0
        if SSL_write_ex(ssl, base, buffer.count, &count) == 1 { return .bytes(count) }
        return failure(of: 0)
    }

    /// True when decrypted bytes wait in OpenSSL (SSL_pending): read them before polling the
    /// socket, which will not signal them again.
    public var hasBufferedInput: Bool {
        guard let ssl else { return false }
        return SSL_pending(ssl) > 0
    }

    /// The label of the control protocol's channel binding (docs/control-protocol.md).
    public static let channelBindingLabel = "EXPORTER-iptrtp-auth"

    /// The channel binding of this connection once the handshake is done: 32 bytes of RFC 5705
    /// keying material, label `EXPORTER-iptrtp-auth`, no context. Both ends compute the same bytes,
    /// and no other TLS session has them; nil before the handshake completed.
    public func channelBinding() -> [UInt8]? {
        guard let ssl, SSL_is_init_finished(ssl) == 1 else { return nil }
        let label = Array(TLSSession.channelBindingLabel.utf8)
        var material = [UInt8](repeating: 0, count: 32)
        begin()
        let rc = label.withUnsafeBufferPointer { l in
            l.withMemoryRebound(to: CChar.self) { l in
                SSL_export_keying_material(ssl, &material, material.count, l.baseAddress, l.count, nil, 0, 0)
            }
        }
        OpenSSLErrors.clear()
        return rc == 1 ? material : nil
    }

    /// For logs: protocol, cipher and the peer's certificate subject, e.g.
    /// `TLSv1.3 TLS_AES_256_GCM_SHA384, peer /CN=kamailio-1` (`no peer certificate` when it showed none).
    public var peerDescription: String {
        guard let ssl else { return "TLS session closed" }
        guard SSL_is_init_finished(ssl) == 1 else { return "TLS handshake not finished" }
        let version = String(cString: SSL_get_version(ssl))
        let cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)).map { String(cString: $0) } ?? "no cipher"
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return "\(version) \(cipher), no peer certificate" }
        defer { X509_free(certificate) }
        var subject = [CChar](repeating: 0, count: 256)
        _ = X509_NAME_oneline(X509_get_subject_name(certificate), &subject, Int32(subject.count))
        return "\(version) \(cipher), peer \(subject.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })"
    }

    /// Ends the session: sends TLS's close_notify if the socket takes it now (best effort, no
    /// waiting; not after a failure) and frees OpenSSL's state. The socket stays open. Later
    /// calls do nothing; every other call then reports the session closed.
    public func close() {
        guard let ssl else { return }
        self.ssl = nil
        if !failed && SSL_is_init_finished(ssl) == 1 {
            begin()
            _ = SSL_shutdown(ssl)
        }
        OpenSSLErrors.clear()
        SSL_free(ssl)
    }

    /// Before each OpenSSL call: nothing stale in the error queue or in what the socket said.
    private func begin() {
        OpenSSLErrors.clear()
        socketState.pointee.error = 0
    }

    /// Why the last call (which returned `rc`) did not succeed.
    private func failure(of rc: Int32) -> TLSIO {
        let kind = SSL_get_error(ssl, rc)
        switch kind {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            OpenSSLErrors.clear()
            return .closed
        default:
            failed = true
            // A peer that hung up shows as SSL_ERROR_SYSCALL with an empty queue, or as
            // OpenSSL's "unexpected eof while reading"; a TLS alert read before the EOF is a failure.
            let first = ERR_peek_error()
            let hungUp = first == 0 || ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING
            let reason = OpenSSLErrors.drain(or: "")
            let socketError = socketState.pointee.error
            // (OpenSSL may then fail to send its alert: that EPIPE is not the cause.)
            if socketState.pointee.sawEOF && hungUp { return .closed }
            if socketError != 0 { return .failed(SystemError.text(socketError)) }
            return .failed(reason.isEmpty ? "TLS error \(kind)" : reason)
        }
    }
}
