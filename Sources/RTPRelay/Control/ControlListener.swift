import CIPTRTPProxy
import Glibc
import IPTRTPProxyCore

/// Listening sockets of the control server: a Unix socket created with mode 0660, or a TCP socket.
enum ControlListener {
    /// Listens on a Unix socket at `path`. A stale socket file (no relay answering) is replaced;
    /// a live one is an error, so two relays never fight over one path.
    static func unix(path: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw MediaPlaneError("control socket path '\(path)' is empty or too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)

        if access(path, F_OK) == 0 {
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | ipt_sock_nonblock_cloexec(), 0)
            let live = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, length) == 0 }
            }
            close(probe)
            if live { throw MediaPlaneError("control socket \(path) is in use by a running relay") }
            unlink(path)
        }

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | ipt_sock_nonblock_cloexec(), 0)
        guard fd >= 0 else { throw SystemError("socket(AF_UNIX)") }
        // The socket file's mode comes from the umask at bind time: never wider than 0660.
        let oldMask = umask(0o117)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        umask(oldMask)
        guard rc == 0 else {
            let e = SystemError("bind \(path)")
            close(fd)
            throw e
        }
        _ = chmod(path, 0o660)
        guard listen(fd, 64) == 0 else {
            let e = SystemError("listen \(path)")
            close(fd)
            throw e
        }
        return fd
    }

    /// Listens on TCP at `endpoint`.
    static func tcp(_ endpoint: Endpoint) throws -> Int32 {
        let address = PeerAddress(endpoint)
        let fd = socket(address.isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | ipt_sock_nonblock_cloexec(), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        let length = address.write(to: &storage)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0, listen(fd, 64) == 0 else {
            let e = SystemError("bind/listen \(endpoint)")
            close(fd)
            throw e
        }
        return fd
    }
}
