import CIPTRTPProxyTLS
import Glibc
import IPTRTPProxyPOSIX

/// What OpenSSL's I/O of one session saw on its socket, for `TLSSession` to tell a closed
/// connection and a system error from a TLS failure.
struct SocketBIOState {
    /// The connected socket (owned by the session's creator, never closed here).
    let fd: Int32
    /// The peer closed its side (recv returned 0).
    var sawEOF = false
    /// errno of the last failed recv or send that was not a would-block, 0 if none.
    var error: Int32 = 0
}

/// A BIO over a non-blocking socket, in place of OpenSSL's own socket BIO: it sends with
/// MSG_NOSIGNAL, so that writing to a peer that reset the connection returns EPIPE instead of
/// raising SIGPIPE (a library must not kill, or change the signals of, the process it runs in:
/// Kamailio, the CLI, a test runner), and it records what the socket said in `SocketBIOState`.
enum SocketBIO {
    /// A new BIO over the socket of `state` (which must outlive it). SSL_set_bio takes it over.
    static func make(_ state: UnsafeMutablePointer<SocketBIOState>) -> OpaquePointer? {
        guard let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, state)
        BIO_set_init(bio, 1)
        return bio
    }

    /// Built once, then only read by OpenSSL (which may do so from any thread).
    nonisolated(unsafe) private static let method: OpaquePointer = {
        let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "iptrtpproxy socket")!
        _ = BIO_meth_set_write(method) { bio, data, length in
            let state = SocketBIO.state(of: bio)
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
            let n = retryingOnInterrupt { send(state.pointee.fd, data, Int(length), Int32(MSG_NOSIGNAL)) }
            if n >= 0 { return Int32(n) }
            if lastCallWouldBlock {
                BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY)
            } else {
                state.pointee.error = errno
            }
            return -1
        }
        _ = BIO_meth_set_read(method) { bio, data, length in
            let state = SocketBIO.state(of: bio)
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
            let n = retryingOnInterrupt { recv(state.pointee.fd, data, Int(length), 0) }
            if n > 0 { return Int32(n) }
            if n == 0 {
                state.pointee.sawEOF = true
                return 0
            }
            if lastCallWouldBlock {
                BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
            } else {
                state.pointee.error = errno
            }
            return -1
        }
        _ = BIO_meth_set_ctrl(method) { bio, command, _, _ in
            switch command {
            case BIO_CTRL_FLUSH: return 1  // nothing is buffered here
            case BIO_CTRL_EOF: return SocketBIO.state(of: bio).pointee.sawEOF ? 1 : 0
            default: return 0
            }
        }
        return method
    }()

    private static func state(of bio: OpaquePointer?) -> UnsafeMutablePointer<SocketBIOState> {
        BIO_get_data(bio)!.assumingMemoryBound(to: SocketBIOState.self)
    }
}
