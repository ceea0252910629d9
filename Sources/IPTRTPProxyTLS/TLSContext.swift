import CIPTRTPProxyTLS

/// What a TLS endpoint trusts and shows: its certificate and key, the CA its peer must be signed
/// by, TLS 1.2 at least. One context serves every session of a listener or a client; it is built
/// once and never changed, and OpenSSL lets any thread create sessions from it.
///
/// Only PEM files are read. Nothing is trusted implicitly: a client trusts exactly the CA file it
/// is given (not the system's store), a server with a client CA file trusts exactly that one.
public final class TLSContext: Sendable {
    /// Which side of a connection the context serves.
    public enum Role: Sendable {
        case server, client
    }

    /// The SSL_CTX. Not Sendable to Swift; safe to share because it is configured in `init` and
    /// only read after (OpenSSL's documented rule for sharing an SSL_CTX among threads).
    nonisolated(unsafe) let handle: OpaquePointer
    /// Which side of a connection the context serves.
    public let role: Role

    private init(_ handle: OpaquePointer, role: Role) {
        self.handle = handle
        self.role = role
    }

    deinit { SSL_CTX_free(handle) }

    /// A server's context: its certificate chain (PEM, the server's own certificate first) and
    /// private key; with `clientCAFile`, every client must present a certificate signed by that
    /// CA, and a handshake without one fails.
    public static func server(certificateFile: String, keyFile: String, clientCAFile: String?) throws -> TLSContext {
        let context = try TLSContext(method: TLS_server_method(), role: .server)
        try context.useCertificate(certificateFile, key: keyFile)
        if let caFile = clientCAFile {
            try context.trust(caFile, what: "client CA file")
            OpenSSLErrors.clear()
            guard let names = SSL_load_client_CA_file(caFile) else {
                throw TLSError("tls: cannot read the CA names of client CA file '\(caFile)': \(OpenSSLErrors.drain())")
            }
            SSL_CTX_set_client_CA_list(context.handle, names)
            SSL_CTX_set_verify(context.handle, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
        // Our clients never resume a session: no tickets to send (TLS 1.3 sends them unasked).
        _ = SSL_CTX_set_num_tickets(context.handle, 0)
        let sessionContext = Array("iptrtpproxy".utf8)
        _ = SSL_CTX_set_session_id_context(context.handle, sessionContext, UInt32(sessionContext.count))
        return context
    }

    /// A client's context: the relay's certificate must be signed by the CA of `caFile` (and
    /// match the host dialled, see `TLSSession`); there is no way to skip that check. With
    /// `certificateFile` the client presents that certificate; `keyFile` defaults to the same
    /// file (a PEM holding both).
    public static func client(caFile: String, certificateFile: String?, keyFile: String?) throws -> TLSContext {
        let context = try TLSContext(method: TLS_client_method(), role: .client)
        try context.trust(caFile, what: "CA file")
        SSL_CTX_set_verify(context.handle, SSL_VERIFY_PEER, nil)
        if let certificateFile {
            try context.useCertificate(certificateFile, key: keyFile ?? certificateFile)
        } else if let keyFile {
            throw TLSError("tls: key file '\(keyFile)' given without a certificate file")
        }
        return context
    }

    private convenience init(method: OpaquePointer?, role: Role) throws {
        OpenSSLErrors.clear()
        guard let handle = SSL_CTX_new(method) else {
            throw TLSError("tls: cannot create a \(role) context: \(OpenSSLErrors.drain())")
        }
        self.init(handle, role: role)
        guard ipt_tls_ctx_set_min_proto_version(handle, TLS1_2_VERSION) == 1 else {
            throw TLSError("tls: cannot require TLS 1.2: \(OpenSSLErrors.drain())")
        }
        // Non-blocking writes: SSL_write returns after each record (the caller advances by what
        // was written), and a retry after wantWrite may pass the same bytes from another address.
        // An idle connection gives its record buffers back (a relay holds hundreds of them).
        let modes = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS
        _ = ipt_tls_ctx_set_mode(handle, Int(modes))
    }

    private func useCertificate(_ certificateFile: String, key keyFile: String) throws {
        OpenSSLErrors.clear()
        guard SSL_CTX_use_certificate_chain_file(handle, certificateFile) == 1 else {
            throw TLSError("tls: cannot load certificate file '\(certificateFile)': \(OpenSSLErrors.drain())")
        }
        guard SSL_CTX_use_PrivateKey_file(handle, keyFile, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(handle) == 1 else {
            let first = ERR_peek_error()
            if ERR_GET_LIB(first) == ERR_LIB_X509 && ERR_GET_REASON(first) == X509_R_KEY_VALUES_MISMATCH {
                throw TLSError("tls: key file '\(keyFile)' does not belong to certificate file '\(certificateFile)': \(OpenSSLErrors.drain())")
            }
            throw TLSError("tls: cannot load key file '\(keyFile)': \(OpenSSLErrors.drain())")
        }
    }

    private func trust(_ caFile: String, what: String) throws {
        OpenSSLErrors.clear()
        guard SSL_CTX_load_verify_locations(handle, caFile, nil) == 1 else {
            throw TLSError("tls: cannot load \(what) '\(caFile)': \(OpenSSLErrors.drain())")
        }
    }
}
