import IPTRTPProxyCore

/// The elements that put streams in the kernel or take them out: per direction of a stream (a
/// packet arriving at one gate from its latched client), one `arrival` element that says how the
/// packet leaves: from the other gate, to the other client, by the route to that client.
struct StreamElements {
    /// One list per map, in the order they are sent.
    private(set) var lists: [ElementList] = OffloadMap.allCases.map { ElementList($0) }

    /// Adds what installs `stream`, whose clients the kernel reaches by `routes.a` (gate A's
    /// client) and `routes.b` (gate B's). Throws for an IPv6 stream (it stays in user space).
    mutating func addInstall(_ stream: KernelStream, routes: (a: KernelRoute, b: KernelRoute)) throws {
        for (from, to) in try Self.directions(stream, routes) {
            guard let route = to.route else { preconditionFailure("routes are given for an install") }
            append(.arrival, key: from.key, data: [
                to.relayAddress, to.peerAddress, ElementBytes.portPair(to.relayPort, to.peerPort),
                ElementBytes.interface(route.interface), route.nextHopBytes,
            ])
        }
    }

    /// Adds what removes `stream` (keys only).
    mutating func addRemoval(_ stream: KernelStream) throws {
        for (from, _) in try Self.directions(stream, nil) { append(.arrival, key: from.key) }
    }

    /// The list for `map`.
    func list(_ map: OffloadMap) -> ElementList { lists.first { $0.map == map }! }

    /// True when nothing was added.
    var isEmpty: Bool { lists.allSatisfy { $0.count == 0 } }

    private mutating func append(_ map: OffloadMap, key: [[UInt8]], data: [[UInt8]]? = nil) {
        lists[lists.firstIndex { $0.map == map }!].append(key: key, data: data)
    }

    /// A leg's values, encoded, and the route to its client.
    private struct Leg {
        var relayAddress, peerAddress: [UInt8]
        var relayPort, peerPort: UInt16
        var route: (interface: UInt32, nextHopBytes: [UInt8])?

        /// The arrival key of a packet from this leg's client: relay address and port, client
        /// address and port.
        var key: [[UInt8]] { [relayAddress, ElementBytes.port(relayPort), peerAddress, ElementBytes.port(peerPort)] }
    }

    /// A→B and B→A, each as (the leg a packet arrives on, the leg it leaves by).
    private static func directions(_ s: KernelStream, _ routes: (a: KernelRoute, b: KernelRoute)?) throws -> [(Leg, Leg)] {
        func leg(_ l: KernelLeg, _ route: KernelRoute?) throws -> Leg {
            guard let relay = ElementBytes.address(l.relay.address), let peer = ElementBytes.address(l.peer.address) else {
                throw KernelOffloadError("stream \(s): the kernel path is IPv4 only")
            }
            var encoded: (interface: UInt32, nextHopBytes: [UInt8])?
            if let route {
                guard let hop = ElementBytes.address(route.nextHop) else {
                    throw KernelOffloadError("stream \(s): the kernel path is IPv4 only")
                }
                encoded = (route.interface, hop)
            }
            return Leg(relayAddress: relay, peerAddress: peer, relayPort: l.relay.port, peerPort: l.peer.port, route: encoded)
        }
        let a = try leg(s.a, routes?.a), b = try leg(s.b, routes?.b)
        return [(a, b), (b, a)]
    }
}
