/// Where a non-blocking TLS handshake stands after one step.
public enum TLSProgress: Equatable, Sendable {
    /// The handshake is complete (certificates verified): read and write.
    case done
    /// Call `handshake()` again once the socket is readable (POLLIN).
    case wantRead
    /// Call `handshake()` again once the socket is writable (POLLOUT).
    case wantWrite
    /// The handshake failed (one line: OpenSSL's reason, with the certificate check's where it
    /// failed); close the session and the socket.
    case failed(String)
}

/// What one non-blocking `TLSSession.read` or `write` did.
public enum TLSIO: Equatable, Sendable {
    /// That many bytes were read (decrypted) or written (accepted for sending), at least 1 unless
    /// the buffer given was empty.
    case bytes(Int)
    /// Nothing now: call the same operation again once the socket is readable (POLLIN). A write
    /// may want to read too (TLS 1.2 renegotiation), a read to write (TLS 1.3 key update).
    case wantRead
    /// Nothing now: call the same operation again once the socket is writable (POLLOUT). A write
    /// must then be retried with the same bytes (it may pass them from another address).
    case wantWrite
    /// The peer closed the connection (with or without TLS's close_notify: the line protocol
    /// frames its own messages, so a cut after a complete line loses nothing it relies on).
    case closed
    /// The connection failed (reset, or a TLS error such as a peer's alert); close it.
    case failed(String)
}
