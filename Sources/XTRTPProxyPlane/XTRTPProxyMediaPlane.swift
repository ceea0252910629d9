import CXTRTPProxy
import IPTRTPProxyCore

/// The media plane of the original module: sessions live in the xt_RTPPROXY kernel target, reached
/// through libipt_RTPPROXY (the module's `relay xt`). Neither exists on current systems; where
/// they do, the five functions behave over this plane as over the relay.
///
/// Every switchboard must be known to the kernel with the same gate addresses and ports (looked
/// up when the plane opens, as the original's mod_init did); the kernel's base ports are the ones
/// used. IPv4 only. Not thread-safe: one library handle.
public final class XTRTPProxyMediaPlane: MediaPlane {
    /// The switchboards, with the gates as the kernel has them.
    public let switchboards: SwitchboardSet
    /// Where the library was loaded from.
    public var libraryPath: String { library.path }

    private let library: XTRTPProxyLibrary

    /// Loads the library (`libraryPath` nil: `$IPT_RTPPROXY_LIB`, else libipt_RTPPROXY.so in the
    /// xtables folders), opens it and looks every switchboard up in the kernel. Throws when the
    /// library is missing or refuses, a gate is IPv6, or the kernel lacks a switchboard.
    public init(switchboards: SwitchboardSet, libraryPath: String? = nil) throws {
        library = try XTRTPProxyLibrary(path: libraryPath)
        var known: [Switchboard] = []
        for var sw in switchboards.all {
            let asked = try Self.gates(of: sw)
            guard let found = try library.findSwitchboard(asked) else {
                throw MediaPlaneError("xt_RTPPROXY: switchboard '\(sw.name)' (\(sw.gateA.address):\(sw.gateA.basePort) / "
                    + "\(sw.gateB.address):\(sw.gateB.basePort)) not found in iptables")
            }
            sw.gateA.basePort = found.port.0
            sw.gateB.basePort = found.port.1
            known.append(sw)
        }
        self.switchboards = SwitchboardSet(known)
    }

    public func allocateSession(switchboard: String, request: SessionRequest) throws -> AllocatedSession {
        let sw = try resolve(switchboard)
        let out = try library.allocate(try Self.gates(of: sw), try Self.request(request))
        return AllocatedSession(handle: SessionHandle(id: Int(out.id), created: out.created),
                                rtpPorts: [out.port.0.0, out.port.1.0])
    }

    public func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws {
        let sw = try resolve(switchboard)
        try library.update(try Self.gates(of: sw), id: Int32(session.id), created: session.created, try Self.request(request))
    }

    public func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        let sw = try resolve(switchboard)
        try library.delete(try Self.gates(of: sw), first: Int32(ids.lowerBound), last: Int32(ids.upperBound), created: created)
    }

    private func resolve(_ name: String) throws -> Switchboard {
        guard let sw = switchboards.named(name) else { throw MediaPlaneError("xt_RTPPROXY: unknown switchboard '\(name)'") }
        return sw
    }

    /// The switchboard as the library names it: both gates' IPv4 address (network order) and port.
    static func gates(of sw: Switchboard) throws -> ipt_xt_gates {
        var g = ipt_xt_gates()
        g.ip.0 = try networkOrder(sw.gateA.address, "switchboard '\(sw.name)' gate A")
        g.ip.1 = try networkOrder(sw.gateB.address, "switchboard '\(sw.name)' gate B")
        g.port = (sw.gateA.basePort, sw.gateB.basePort)
        return g
    }

    /// A request in the library's terms: an address sets SESSION_ADDR, a learning timeout sets
    /// SESSION_LEARNING_TIMEOUT; what the request leaves nil stays zero with its flag clear.
    static func request(_ r: SessionRequest) throws -> ipt_xt_session_request {
        var out = ipt_xt_session_request()
        func stream(_ s: StreamRequest) throws -> ipt_xt_stream_request {
            var x = ipt_xt_stream_request()
            if let a = s.address {
                x.has_address = 1
                x.ip = try networkOrder(a.address, "client address \(a)")
                x.port = a.port
            }
            if let t = s.learningTimeout {
                x.has_learning_timeout = 1
                x.learning_timeout = t
            }
            return x
        }
        let a = r[.a], b = r[.b]
        out.source.0.always_learn = a.alwaysLearn ? 1 : 0
        out.source.0.stream = (try stream(a.streams[0]), try stream(a.streams[1]))
        out.source.1.always_learn = b.alwaysLearn ? 1 : 0
        out.source.1.stream = (try stream(b.streams[0]), try stream(b.streams[1]))
        return out
    }

    /// An IPv4 address as the kernel takes it: network byte order in a 32-bit word.
    static func networkOrder(_ address: IPAddress, _ what: String) throws -> UInt32 {
        guard case .v4(let v) = address else { throw MediaPlaneError("xt_RTPPROXY is IPv4 only: \(what) is \(address)") }
        return v.bigEndian
    }
}
