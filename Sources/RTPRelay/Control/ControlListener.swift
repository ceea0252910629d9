import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// Listening sockets of the control server: a Unix socket created with mode 0660, or a TCP socket.
enum ControlListener {
    /// Listens on a Unix socket at `path`. A stale socket file (no relay answering) is replaced;
    /// a live one is an error, so two relays never fight over one path.
    static func unix(path: String) throws -> Int32 {
        let address: SocketAddress
        do {
            address = try SocketAddress(unixPath: path)
        } catch {
            throw MediaPlaneError("control socket path '\(path)' is empty or too long")
        }
        if access(path, F_OK) == 0 {
            if let probe = try? Socket.connected(to: address, timeout: 200) {
                close(probe)
                throw MediaPlaneError("control socket \(path) is in use by a running relay")
            }
            unlink(path)
        }
        // The socket file's mode comes from the umask at bind time: never wider than 0660.
        let oldMask = umask(0o117)
        defer { umask(oldMask) }
        let fd = try Socket.listening(on: address)
        _ = chmod(path, 0o660)
        return fd
    }

    /// Listens on TCP at `endpoint`.
    static func tcp(_ endpoint: Endpoint) throws -> Int32 {
        try Socket.listening(on: SocketAddress(endpoint))
    }
}
