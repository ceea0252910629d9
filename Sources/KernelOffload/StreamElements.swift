import IPTRTPProxyCore

/// The elements that put streams in the kernel or take them out. Per direction of a stream (a
/// packet arriving at one gate from its latched client), an `arrival` element says where it goes
/// and a `departure` element gives it the other gate's address as its source.
struct StreamElements {
    /// One list per map, in the order they are sent.
    private(set) var lists: [ElementList] = OffloadMap.allCases.map { ElementList($0) }

    /// Adds what installs `stream`. Throws for an IPv6 stream (it stays in user space).
    mutating func addInstall(_ stream: KernelStream) throws {
        for (from, to) in try Self.directions(stream) {
            let arrival = [from.relayAddress, from.relayPort, from.peerAddress, from.peerPort]
            append(.arrival, key: arrival, data: [to.peerAddress, to.relayPort, to.peerPort])
            append(.departure, key: [to.peerAddress, to.peerPort, to.relayPort], data: [to.relayAddress])
        }
    }

    /// Adds what removes `stream` (keys only).
    mutating func addRemoval(_ stream: KernelStream) throws {
        for (from, to) in try Self.directions(stream) {
            let arrival = [from.relayAddress, from.relayPort, from.peerAddress, from.peerPort]
            append(.arrival, key: arrival)
            append(.departure, key: [to.peerAddress, to.peerPort, to.relayPort])
        }
    }

    /// The list for `map`.
    func list(_ map: OffloadMap) -> ElementList { lists.first { $0.map == map }! }

    /// True when nothing was added.
    var isEmpty: Bool { lists.allSatisfy { $0.count == 0 } }

    private mutating func append(_ map: OffloadMap, key: [[UInt8]], data: [[UInt8]]? = nil) {
        lists[lists.firstIndex { $0.map == map }!].append(key: key, data: data)
    }

    /// A leg's values, encoded.
    private struct Leg {
        var relayAddress, relayPort, peerAddress, peerPort: [UInt8]
    }

    /// A→B and B→A, each as (arrival leg, departure leg).
    private static func directions(_ s: KernelStream) throws -> [(Leg, Leg)] {
        func leg(_ l: KernelLeg) throws -> Leg {
            guard let relay = ElementBytes.address(l.relay.address), let peer = ElementBytes.address(l.peer.address) else {
                throw KernelOffloadError("stream \(s): the kernel path is IPv4 only")
            }
            return Leg(relayAddress: relay, relayPort: ElementBytes.port(l.relay.port),
                       peerAddress: peer, peerPort: ElementBytes.port(l.peer.port))
        }
        let a = try leg(s.a), b = try leg(s.b)
        return [(a, b), (b, a)]
    }
}
