import IPTRTPProxyCore

/// Where a relay's control socket is: `unix:/run/iptrtpproxy/control.sock`,
/// `tcp:127.0.0.1:7722` (`tcp:[::1]:7722`, `tcp:localhost:7722`) or `tls:127.0.0.1:7723`
/// (`tls:[::1]:7723`, `tls:localhost:7723`). A bare path means a Unix socket.
public enum ControlAddress: Hashable, Sendable, CustomStringConvertible {
    /// A Unix stream socket.
    case unix(path: String)
    /// A TCP address.
    case tcp(Endpoint)
    /// TLS over TCP to `endpoint`; the relay's certificate must name `host`, the host as the
    /// address was written (`localhost`, or the IP address without brackets).
    case tls(host: String, endpoint: Endpoint)

    /// Parses `unix:PATH`, `tcp:ADDRESS:PORT`, `tls:ADDRESS:PORT` or a path starting with `/` or `.`.
    public init(parsing text: String) throws {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw MediaPlaneError("control address '\(text)': no socket path after unix:") }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp:") {
            guard let (_, e) = ControlAddress.hostAndEndpoint(text.dropFirst(4)) else {
                throw MediaPlaneError("control address '\(text)': expected tcp:ADDRESS:PORT (numeric address, [v6] in brackets)")
            }
            self = .tcp(e)
        } else if text.hasPrefix("tls:") {
            guard let (host, e) = ControlAddress.hostAndEndpoint(text.dropFirst(4)) else {
                throw MediaPlaneError("control address '\(text)': expected tls:ADDRESS:PORT (numeric address, [v6] in brackets, or localhost)")
            }
            self = .tls(host: host, endpoint: e)
        } else if text.hasPrefix("/") || text.hasPrefix(".") {
            self = .unix(path: text)
        } else {
            throw MediaPlaneError("control address '\(text)': expected unix:PATH, tcp:ADDRESS:PORT or tls:ADDRESS:PORT")
        }
    }

    /// `ADDRESS:PORT`, `[V6]:PORT` or `localhost:PORT` (127.0.0.1): the host as written (for a
    /// certificate check) and the endpoint to connect to.
    private static func hostAndEndpoint(_ text: Substring) -> (String, Endpoint)? {
        if text.hasPrefix("localhost:") {
            guard let e = ControlProtocol.parseEndpoint("127.0.0.1:" + text.dropFirst(10)), e.port != 0 else { return nil }
            return ("localhost", e)
        }
        guard let e = ControlProtocol.parseEndpoint(String(text)), e.port != 0 else { return nil }
        return ("\(e.address)", e)
    }

    /// True for a `tls:` address (it needs a client TLS context).
    public var isTLS: Bool {
        if case .tls = self { return true }
        return false
    }

    /// `unix:PATH`, `tcp:ADDRESS:PORT` or `tls:HOST:PORT`; what `init(parsing:)` made parses back to itself.
    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let e): return "tcp:\(e)"
        case .tls(let host, let e): return host == "\(e.address)" ? "tls:\(e)" : "tls:\(host):\(e.port)"
        }
    }
}
