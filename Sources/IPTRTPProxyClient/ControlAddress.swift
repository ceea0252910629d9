import IPTRTPProxyCore

/// Where a relay's control socket is: `unix:/run/iptrtpproxy/control.sock` or
/// `tcp:127.0.0.1:7722` (`tcp:[::1]:7722`, `tcp:localhost:7722`). A bare path means a Unix socket.
public enum ControlAddress: Hashable, Sendable, CustomStringConvertible {
    /// A Unix stream socket.
    case unix(path: String)
    /// A TCP address.
    case tcp(Endpoint)

    /// Parses `unix:PATH`, `tcp:ADDRESS:PORT` or a path starting with `/` or `.`.
    public init(parsing text: String) throws {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw MediaPlaneError("control address '\(text)': no socket path after unix:") }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp:") {
            var rest = String(text.dropFirst(4))
            if rest.hasPrefix("localhost:") { rest = "127.0.0.1:" + rest.dropFirst(10) }
            guard let e = ControlProtocol.parseEndpoint(rest), e.port != 0 else {
                throw MediaPlaneError("control address '\(text)': expected tcp:ADDRESS:PORT (numeric address, [v6] in brackets)")
            }
            self = .tcp(e)
        } else if text.hasPrefix("/") || text.hasPrefix(".") {
            self = .unix(path: text)
        } else {
            throw MediaPlaneError("control address '\(text)': expected unix:PATH or tcp:ADDRESS:PORT")
        }
    }

    /// `unix:PATH` or `tcp:ADDRESS:PORT`.
    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let e): return "tcp:\(e)"
        }
    }
}
