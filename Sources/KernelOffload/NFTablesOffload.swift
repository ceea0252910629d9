import Glibc
import IPTRTPProxyCore
import CIPTRTPProxyNFT

/// Kernel-space forwarding on a stock kernel: the relay's streams as elements of an nf_tables map
/// in a table of its own (`netdev iptrtpproxy`), driven over netlink (no `nft` binary at run time).
///
/// The relay learns both clients of a stream in user space, then `install`s it: from the next
/// packet on, the kernel rewrites what the latched clients send as it comes in from the network
/// card (ingress) and sends it straight out to the other client (nf_tables `fwd`), and nothing of
/// that stream reaches the relay's sockets (packets from any other source still do). A re-INVITE
/// `repoint`s atomically; `remove` takes streams out in batches (each kernel commit costs ~10 ms,
/// whatever its size); `counters` tells which streams are still busy. Any error leaves the kernel
/// as it was: the relay logs it once and forwards that stream in user space.
///
/// Needs CAP_NET_ADMIN. IPv4 only. Not thread-safe: call it from one thread (the relay's control
/// thread).
public final class NFTablesOffload {
    /// The table's name (family `netdev`).
    public let table: String
    private let socket: NetlinkSocket

    /// Streams removed per kernel transaction. A transaction's cost is mostly its commit, so
    /// removals are batched; the cap keeps one netlink message within the socket's buffer.
    public static let removalBatch = 512

    /// The default table name.
    public static let defaultTable = "iptrtpproxy"

    /// Opens the netlink socket. Throws when nf_tables cannot be reached.
    public init(table: String = NFTablesOffload.defaultTable) throws {
        self.table = table
        do throws(NetlinkError) {
            socket = try NetlinkSocket(family: NETLINK_NETFILTER, forTransactions: true)
        } catch {
            throw KernelOffloadError.system("kernel offload: netlink socket to nf_tables", error.errno)
        }
    }

    /// Creates the table with its fixed ruleset, hooked on the ingress of `interfaces` (default:
    /// every interface but loopback), replacing one a crashed run left behind (so every stream
    /// starts in user space). Packets that come in on an interface that is not hooked (one added
    /// later) reach the relay's sockets and are relayed in user space. Throws, and changes
    /// nothing, when the kernel refuses (no CAP_NET_ADMIN, no nf_tables) or there is no interface.
    public func start(interfaces: [String]? = nil) throws {
        let names = interfaces ?? Self.networkInterfaces()
        guard !names.isEmpty else { throw KernelOffloadError("kernel offload: no network interface to hook") }
        let tx = NetlinkTransaction(socket)
        OffloadRuleset.install(table: table, interfaces: names, in: tx)
        try tx.commit("kernel offload: create table netdev \(table) on \(names.joined(separator: ", "))")
    }

    /// Deletes the table and every stream in it. Call it when the relay exits (the table is not
    /// tied to this object: a tool may create it in one run and delete it in another). No error
    /// when it is already gone.
    public func stop() throws {
        let tx = NetlinkTransaction(socket)
        tx.addTable(table)
        tx.deleteTable(table)
        try tx.commit("kernel offload: delete table netdev \(table)")
    }

    /// Puts `stream` in the kernel, sending to each client the way the routing table says now.
    /// Throws when a client is not reachable through a network interface (a local address, no
    /// route) or the kernel refuses: e.g. EEXIST when the same relay endpoint and client are
    /// already installed for another stream.
    public func install(_ stream: KernelStream) throws {
        var elements = StreamElements()
        try elements.addInstall(stream, routes: try routes(stream))
        let tx = NetlinkTransaction(socket)
        for list in elements.lists { tx.addElements(table, list) }
        try tx.commit("kernel offload: install \(stream)")
    }

    /// Replaces `old` by `new` in one transaction: no packet sees a half-changed stream. The
    /// re-pointed stream's counters start again from zero; its routes are looked up again.
    public func repoint(_ old: KernelStream, to new: KernelStream) throws {
        var removal = StreamElements(), install = StreamElements()
        try removal.addRemoval(old)
        try install.addInstall(new, routes: try routes(new))
        let tx = NetlinkTransaction(socket)
        for list in removal.lists { tx.deleteElements(table, list) }
        for list in install.lists { tx.addElements(table, list) }
        try tx.commit("kernel offload: re-point \(old) to \(new)")
    }

    /// Takes `streams` out of the kernel, `removalBatch` per transaction. When a transaction is
    /// refused (a stream was not installed), its streams are removed one by one so that the others
    /// still go; the first failure is thrown after all were tried.
    public func remove(_ streams: [KernelStream]) throws {
        var firstError: KernelOffloadError?
        var start = 0
        while start < streams.count {
            let chunk = Array(streams[start..<min(start + Self.removalBatch, streams.count)])
            start += chunk.count
            do {
                try removeTogether(chunk)
            } catch let error as KernelOffloadError {
                guard chunk.count > 1 else { firstError = firstError ?? error; continue }
                for stream in chunk {
                    do { try removeTogether([stream]) } catch let e as KernelOffloadError { firstError = firstError ?? e }
                }
            }
        }
        if let firstError { throw firstError }
    }

    private func removeTogether(_ streams: [KernelStream]) throws {
        var elements = StreamElements()
        for s in streams { try elements.addRemoval(s) }
        let tx = NetlinkTransaction(socket)
        for list in elements.lists { tx.deleteElements(table, list) }
        let what = streams.count == 1 ? "\(streams[0])" : "\(streams.count) streams"
        try tx.commit("kernel offload: remove \(what)")
    }

    /// Packets and bytes forwarded in the kernel, per relay endpoint where they arrived (one per
    /// direction of each installed stream). Poll and compare to tell idle streams.
    public func counters() throws -> [Endpoint: KernelCounter] {
        let map = OffloadMap.arrival
        let elements: [SetElementCounter]
        do throws(NetlinkError) {
            elements = try SetElementCounters.dump(socket, family: UInt16(IPT_NFT_FAMILY_NETDEV), table: table, set: map.name)
        } catch {
            throw KernelOffloadError.system("kernel offload: read counters of \(table)", error.errno)
        }
        var out: [Endpoint: KernelCounter] = [:]
        for element in elements {
            // The key starts with the relay address (4 bytes) and port (2 bytes, padded to 4); a
            // short key is read as if zero-padded to the map's key length.
            let k = element.key.prefix(6) + [UInt8](repeating: 0, count: max(0, 6 - element.key.count))
            let address = k.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let relay = Endpoint(address: .v4(address), port: UInt16(k[k.startIndex + 4]) << 8 | UInt16(k[k.startIndex + 5]))
            let previous = out[relay] ?? KernelCounter(packets: 0, bytes: 0)
            out[relay] = KernelCounter(packets: previous.packets + element.packets, bytes: previous.bytes + element.bytes)
        }
        return out
    }

    /// The routes to the two clients of `stream`, each from the gate it talks to.
    func routes(_ stream: KernelStream) throws -> (a: KernelRoute, b: KernelRoute) {
        (try Self.route(to: stream.a.peer.address, from: stream.a.relay.address),
         try Self.route(to: stream.b.peer.address, from: stream.b.relay.address))
    }

    /// Where the kernel sends a packet from `source` to `destination` now: output interface and
    /// next hop. Throws unless that is a unicast route out of an interface.
    static func route(to destination: IPAddress, from source: IPAddress) throws -> KernelRoute {
        guard let d = ElementBytes.address(destination), let s = ElementBytes.address(source) else {
            throw KernelOffloadError("kernel offload: route to \(destination): IPv4 only")
        }
        let r: RouteAnswer
        do throws(NetlinkError) {
            r = try RouteLookup.route(to: d, from: s)
        } catch {
            throw KernelOffloadError.system("kernel offload: route to \(destination)", error.errno)
        }
        guard r.type == UInt8(RTN_UNICAST), r.interface != 0 else {
            throw KernelOffloadError("kernel offload: \(destination) is not reached through a network interface (route type \(r.type)): it stays in user space")
        }
        let hop = r.nextHop.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return KernelRoute(interface: r.interface, nextHop: .v4(hop))
    }

    /// The names of the host's interfaces, loopback left out (its packets are the host's own).
    static func networkInterfaces() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var names: [String] = []
        var cursor = list
        while let entry = cursor {
            let name = String(cString: entry.pointee.ifa_name)
            if entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0 && !names.contains(name) { names.append(name) }
            cursor = entry.pointee.ifa_next
        }
        return names
    }
}
