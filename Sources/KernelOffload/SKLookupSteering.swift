import CIPTRTPProxyBPF
import Glibc
import IPTRTPProxyCore
import Logging
import RTPRelay
import Synchronization

/// Shared-socket mode's kernel part (`iptrtpproxyd --shared-sockets`): the sk_lookup program
/// (bpf/iptrtpproxy_sklookup.bpf.c) attached to the relay's network namespace. Before the kernel
/// looks for a UDP socket it hands every packet for a gate's port range to the receive socket of
/// the session's forwarding thread, so that sessions need no socket per port, and a port of a
/// range reaches no other program. Needs CAP_BPF and CAP_NET_ADMIN (the engine's raw sockets
/// need CAP_NET_RAW); the link lives as long as this object's descriptor, so the steering ends
/// with the process whatever happens.
public final class SKLookupSteering: PortSteering {
    public let name = "sk_lookup"
    /// Where the object file is; nil searches `BPFObjectLocation.candidates`.
    private let directory: String?
    private struct Loaded {
        var object: BPFObject
        var link: Int32
        var reserved: ReservedPorts?
    }
    /// The loaded program and its link; nil while stopped.
    private let loaded = Mutex<Loaded?>(nil)

    /// Most gate ranges the program holds (`IPT_MAX_RANGES`): 32 switchboards.
    public static let maxRanges = 64
    /// The object file's name.
    public static let objectName = "iptrtpproxy_sklookup.o"

    /// A steering that loads its program from `directory` (default: the usual folders).
    public init(directory: String? = nil) {
        self.directory = directory
    }

    public func start(ranges: [GatePortRange], sockets: [Int32]) throws {
        guard ranges.count <= SKLookupSteering.maxRanges else {
            throw KernelOffloadError("sk_lookup: \(ranges.count) gate ranges, at most \(SKLookupSteering.maxRanges)")
        }
        try loaded.withLock { loaded in
            guard loaded == nil else { throw KernelOffloadError("sk_lookup: already started") }
            let path = try BPFObjectLocation.find(SKLookupSteering.objectName, in: directory)
            let object = try BPFObject(path: path, mapSizes: ["ipt_sockets": UInt32(max(2, sockets.count))])
            do {
                try object.load()
                let rangeMap = BPFMap(fd: try object.map("ipt_ranges"))
                for (i, range) in ranges.enumerated() {
                    let rc = rangeMap.update(key: SKLookupSteering.word(UInt32(i)), value: SKLookupSteering.bytes(of: range))
                    if rc != 0 { throw KernelOffloadError.system("sk_lookup: range \(i)", rc) }
                }
                let socketMap = BPFMap(fd: try object.map("ipt_sockets"))
                for (i, fd) in sockets.enumerated() where fd >= 0 {
                    let rc = socketMap.update(key: SKLookupSteering.word(UInt32(i)), value: SKLookupSteering.word64(UInt64(fd)))
                    if rc != 0 { throw KernelOffloadError.system("sk_lookup: socket \(i) into the sockmap", rc) }
                }
                let config = SKLookupSteering.word(UInt32(ranges.count)) + SKLookupSteering.word(UInt32(sockets.count / 2))
                let rc = BPFMap(fd: try object.map("ipt_config")).update(key: SKLookupSteering.word(0), value: config)
                if rc != 0 { throw KernelOffloadError.system("sk_lookup: config", rc) }
                let namespace = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
                guard namespace >= 0 else { throw KernelOffloadError.system("sk_lookup: open /proc/self/ns/net", errno) }
                defer { close(namespace) }
                let link = bpf_link_create(try object.program("ipt_steer"), namespace, BPF_SK_LOOKUP, nil)
                guard link >= 0 else { throw KernelOffloadError.system("sk_lookup: attach to the network namespace", -link) }
                // Best effort: the program keeps the ports' packets whatever this says.
                var reserved: ReservedPorts? = nil
                do {
                    reserved = try ReservedPorts(adding: ranges.map { ($0.firstPort, $0.lastPort) })
                } catch {
                    Logger(label: "iptrtpproxy.relay").warning("shared sockets: gate ports not added to ip_local_reserved_ports: \(error)")
                }
                loaded = Loaded(object: object, link: link, reserved: reserved)
            } catch {
                object.close()
                throw error
            }
        }
    }

    public func stop() {
        loaded.withLock { loaded in
            guard let l = loaded else { return }
            do { try l.reserved?.restore() } catch {
                Logger(label: "iptrtpproxy.relay").warning("shared sockets: ip_local_reserved_ports not restored: \(error)")
            }
            close(l.link)
            l.object.close()
            loaded = nil
        }
    }

    deinit { stop() }

    /// `struct ipt_range` of the program: family, address (network order, 16 bytes), first and
    /// last port, base; each field 32 bits in host order but the address.
    static func bytes(of range: GatePortRange) -> [UInt8] {
        var out: [UInt8] = []
        switch range.address {
        case .v4(let a):
            out += word(UInt32(AF_INET))
            out += withUnsafeBytes(of: a.bigEndian) { Array($0) } + Array(repeating: 0, count: 12)
        case .v6(let b):
            out += word(UInt32(AF_INET6))
            out += withUnsafeBytes(of: b.high.bigEndian) { Array($0) } + withUnsafeBytes(of: b.low.bigEndian) { Array($0) }
        }
        out += word(UInt32(range.firstPort)) + word(UInt32(range.lastPort)) + word(UInt32(range.base))
        return out
    }

    static func word(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
    static func word64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
}
