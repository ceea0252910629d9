import CIPTRTPProxyBPF
import Glibc
import IPTRTPProxyCore
import Logging
import RTPRelay
import Synchronization

/// The relay engine's kernel offload over XDP (issue 15): the program of
/// bpf/iptrtpproxy_xdp.bpf.c attached to the relay's interfaces, filled with the latched streams.
/// A packet of such a stream is rewritten and redirected at the driver (or right after it,
/// generic mode) and never reaches the relay's sockets; anything else takes the normal path (see
/// the program's header). Each direction goes into the program's fast index where it can
/// (`XDPFastPath`: found with two array lookups), else into the hash map of its family
/// (`ipt_streams4`, `ipt_streams6`): when two other directions hold its index position, or every
/// slot is taken.
///
/// Creating it loads the program (the kernel's verifier runs) and attaches it to every interface
/// but loopback, replacing the program a crashed relay left (its map, and so its streams, go with
/// it: every stream starts in user space and is offloaded again once latched). `stop()` detaches.
/// Throws, and leaves nothing attached, when the object is missing, the kernel refuses (no
/// CAP_BPF/CAP_NET_ADMIN, verifier), or no interface takes the program: the caller then uses the
/// nftables offload.
///
/// Everything it knows (the object, the streams in the map) is one state behind one lock; the
/// engine calls it from its control path and housekeeping thread.
public final class XDPStreamOffload: StreamOffload, Sendable {
    /// `xdp (generic: rc, re)`, for `info`.
    public let name: String
    /// The interfaces the program is attached to, and how.
    public let interfaces: [XDPInterface]
    /// Directions (map elements) each family's map holds at most; two per stream.
    public let capacity: UInt32

    /// The object file's name in the bpf folder.
    public static let objectName = "iptrtpproxy_xdp.o"
    /// Default `capacity`: 65,536 streams (16,384 sessions with RTP and RTCP). The map allocates
    /// an element when it is used, so an unused capacity costs nothing.
    public static let defaultCapacity: UInt32 = 131_072

    private struct State {
        let object: BPFObject
        let streams4: BPFMap
        let streams6: BPFMap
        let counters: BPFMap
        let fast: XDPFastPath
        var installed: [OffloadedStream.Key: [XDPStreamEntry]] = [:]
        /// Keys of the directions in the hash maps (all others are in the fast index).
        var hashed: Set<[UInt8]> = []
        /// Directions installed, IPv4 and IPv6, wherever they are: at most `capacity` each.
        var directions = [0, 0]
        var lastError: KernelOffloadError?
        /// Counters of every element, by key, from one batch read of the map.
        var snapshot: [[UInt8]: KernelCounter] = [:]
        var snapshotTime: UInt64 = 0

        /// The hash map `entry` belongs in when it is not in the fast index.
        func streams(for entry: XDPStreamEntry) -> BPFMap { entry.isV4 ? streams4 : streams6 }

        /// Takes the direction out of the fast index or its hash map; 0 or the hash map's errno.
        @discardableResult
        mutating func forget(_ entry: XDPStreamEntry, now: UInt64) -> Int32 {
            snapshot[entry.key] = nil
            let rc: Int32
            if fast.remove(entry.key, now: now) {
                rc = 0
            } else if hashed.remove(entry.key) != nil {
                rc = streams(for: entry).delete(key: entry.key)
            } else {
                return 0
            }
            directions[entry.isV4 ? 0 : 1] -= 1
            return rc
        }
    }

    private let state: Mutex<State>

    /// Loads and attaches the program. `directory`: where `iptrtpproxy_xdp.o` is (default: the
    /// first of `BPFObjectLocation.candidates` that has it); `interfaces`: default every one but
    /// loopback; `capacity`: map elements (two per stream).
    public init(
        directory: String? = nil, interfaces names: [String]? = nil, mode: XDPMode = .auto,
        capacity: UInt32 = XDPStreamOffload.defaultCapacity, logger: Logger = Logger(label: "iptrtpproxy.xdp")
    ) throws {
        let path = try BPFObjectLocation.find(Self.objectName, in: directory)
        let slots = XDPFastPath.slotCounts(capacity: capacity)
        let object = try BPFObject(path: path, mapSizes: [XDPStreamEntry.map4: capacity, XDPStreamEntry.map6: capacity,
                                                          XDPStreamEntry.slots4: slots.v4, XDPStreamEntry.slots6: slots.v6])
        try object.load()
        let program = try object.program(XDPAttachment.programName), tcProgram = try object.program(TCAttachment.programName)
        let modes = BPFMap(fd: try object.map("ipt_interfaces"))
        // Every descriptor before the first attachment: nothing below throws once one is made.
        let streams4 = BPFMap(fd: try object.map(XDPStreamEntry.map4)), streams6 = BPFMap(fd: try object.map(XDPStreamEntry.map6))
        let counters = BPFMap(fd: try object.map("ipt_counters"))
        let fast = try XDPFastPath(object: object, slotCounts: slots)
        var attached: [XDPInterface] = []
        for name in names ?? NFTablesOffload.networkInterfaces() {
            // The kernel's FIB answers an XDP program only for an interface with forwarding on
            // (bpf_fib_lookup's rule): elsewhere every packet would be looked up for nothing.
            let forwarding = XDPAttachment.forwarding(name)
            guard forwarding.v4 || forwarding.v6 else {
                logger.warning("XDP: forwarding is off on \(name) (net.ipv4.conf.\(name).forwarding, net.ipv6.conf.\(name).forwarding); its packets take the normal path")
                continue
            }
            if !forwarding.v4 || !forwarding.v6 {
                logger.notice("XDP: \(forwarding.v4 ? "IPv6" : "IPv4") forwarding is off on \(name); such streams arriving there take the normal path")
            }
            do {
                let (interface, passedOver) = try XDPAttachment.attach(program: program, tcProgram: tcProgram, to: name, mode: mode)
                if !passedOver.isEmpty {
                    logger.notice("XDP: \(name) in \(interface.mode) mode (\(passedOver.joined(separator: "; ")))")
                }
                // The program's IPT_XDP_GENERIC, IPT_XDP_NATIVE, IPT_XDP_TC.
                var key = interface.index, value: UInt32 = switch interface.mode {
                case .native: 2
                case .tc: 3
                default: 1
                }
                let rc = withUnsafeBytes(of: &key) { k in withUnsafeBytes(of: &value) { v in modes.update(key: Array(k), value: Array(v)) } }
                if rc != 0 {
                    XDPAttachment.detach(interface)
                    throw KernelOffloadError.system("XDP: record \(name)'s mode", rc)
                }
                attached.append(interface)
            } catch {
                logger.warning("\(error); packets arriving on \(name) take the normal path")
            }
        }
        guard !attached.isEmpty else {
            fast.close()
            throw KernelOffloadError("XDP: the program is attached to no interface")
        }
        interfaces = attached
        self.capacity = capacity
        let byMode = Dictionary(grouping: attached, by: \.mode).sorted { $0.key.rawValue < $1.key.rawValue }
        name = "xdp (" + byMode.map { "\($0.key): " + $0.value.map(\.name).joined(separator: ", ") }.joined(separator: "; ") + ")"
        state = Mutex(State(object: object, streams4: streams4, streams6: streams6, counters: counters, fast: fast))
    }

    /// Detaches the program from every interface: every stream goes back to user space.
    public func stop() {
        state.withLock { state in
            for interface in interfaces { XDPAttachment.detach(interface) }
            state.installed = [:]
            state.hashed = []
            state.directions = [0, 0]
            state.fast.close()
            state.object.close()
        }
    }

    /// Streams in the maps now.
    public var installedCount: Int { state.withLock { $0.installed.count } }

    /// The last error of a call that cannot throw (`remove`, `counters`), for the host to log.
    public var lastError: KernelOffloadError? { state.withLock { $0.lastError } }

    /// Puts both directions of the stream in the maps. Throws `OffloadTableFull` when the map is
    /// full, another error when the families differ or the kernel refuses; either way nothing of
    /// the stream stays in the map.
    public func install(_ stream: OffloadedStream) throws {
        let entries = try XDPStreamEntry.directions(of: NFTablesStreamOffload.kernelStream(stream))
        try state.withLock { state in
            try Self.write(entries, in: &state, for: stream, capacity: capacity)
            state.installed[stream.key] = entries
            // Its elements start from zero: an older snapshot must not count again what it held.
            for entry in entries { state.snapshot[entry.key] = nil }
        }
    }

    /// Re-points an installed stream: the new directions are written first, then the old keys
    /// that are not among them deleted, so no packet of the stream finds nothing in between.
    public func update(_ stream: OffloadedStream) throws {
        let entries = try XDPStreamEntry.directions(of: NFTablesStreamOffload.kernelStream(stream))
        try state.withLock { state in
            try Self.write(entries, in: &state, for: stream, capacity: capacity)
            let kept = Set(entries.map(\.key))
            let now = NFTablesStreamOffload.monotonicNanoseconds()
            for old in state.installed[stream.key] ?? [] where !kept.contains(old.key) {
                state.forget(old, now: now)
            }
            state.installed[stream.key] = entries
            for entry in entries { state.snapshot[entry.key] = nil }
        }
    }

    /// Writes each direction into the fast index, or else into its hash map; a direction that is
    /// in the hash map stays there (its element is replaced in one step). When a placed
    /// direction finds no free slot to be re-pointed into, the hash map's element is written
    /// before the index lets it go, so that no packet finds nothing in between.
    /// A direction not installed yet counts against `capacity` (per family), wherever it goes.
    private static func write(_ entries: [XDPStreamEntry], in state: inout State, for stream: OffloadedStream, capacity: UInt32) throws {
        let now = NFTablesStreamOffload.monotonicNanoseconds()
        for (i, entry) in entries.enumerated() {
            let family = entry.isV4 ? 0 : 1
            let hashed = state.hashed.contains(entry.key), new = !hashed && !state.fast.holds(entry.key)
            let rc: Int32
            if new && state.directions[family] >= Int(capacity) {
                rc = E2BIG
            } else if !hashed && state.fast.place(entry, now: now) {
                rc = 0
            } else {
                rc = state.streams(for: entry).update(key: entry.key, value: entry.target)
                if rc == 0 {
                    state.hashed.insert(entry.key)
                    state.fast.remove(entry.key, now: now)
                }
            }
            if rc == 0 {
                if new { state.directions[family] += 1 }
                continue
            }
            for done in entries[..<i] { state.forget(done, now: now) }
            let what = "stream \(stream.key.switchboard):\(stream.key.session)/\(stream.key.stream) (\(entry.arrival.peer)→\(entry.arrival.relay))"
            if rc == E2BIG || rc == ENOMEM { throw OffloadTableFull("XDP: map full, \(what) stays in user space") }
            throw KernelOffloadError.system("XDP: install \(what)", rc)
        }
    }

    /// Takes the stream's directions out of the map.
    public func remove(_ key: OffloadedStream.Key) {
        state.withLock { state in
            guard let entries = state.installed.removeValue(forKey: key) else { return }
            let now = NFTablesStreamOffload.monotonicNanoseconds()
            for entry in entries {
                let rc = state.forget(entry, now: now)
                if rc != 0 && rc != ENOENT { state.lastError = .system("XDP: remove \(entry.arrival.peer)→\(entry.arrival.relay)", rc) }
            }
        }
    }

    /// What the program forwarded per side since the stream was installed or re-pointed; nil
    /// for a stream not installed, or when a hash map cannot be read (`lastError` says why). A
    /// direction in the fast index is read from its slot's shared memory; one in a hash map from
    /// a batch read of both maps at most `NFTablesStreamOffload.snapshotNanoseconds` old (a
    /// housekeeping round asks for every stream, and one read per element would cost a system
    /// call each), taken only while some direction is in a hash map.
    public func counters(_ key: OffloadedStream.Key) -> OffloadCounters? {
        state.withLock { state in
            guard let entries = state.installed[key] else { return nil }
            let now = NFTablesStreamOffload.monotonicNanoseconds()
            if !state.hashed.isEmpty && now &- state.snapshotTime > NFTablesStreamOffload.snapshotNanoseconds {
                var snapshot: [[UInt8]: KernelCounter] = [:]
                snapshot.reserveCapacity(state.installed.count * 2)
                do {
                    // Keys of the two maps differ in size, so they cannot collide in one dictionary.
                    for (map, keySize) in [(state.streams4, XDPStreamEntry.keySize4), (state.streams6, XDPStreamEntry.keySize6)] {
                        try map.forEach(keySize: keySize, valueSize: XDPStreamEntry.targetSize) { k, v in
                            snapshot[Array(k)] = XDPStreamEntry.counter(fromTarget: Array(v))
                        }
                    }
                } catch let e as KernelOffloadError {
                    state.lastError = e
                    return nil
                } catch {
                    return nil
                }
                state.snapshot = snapshot
                state.snapshotTime = now
            }
            let counters = entries.map { state.fast.counter($0.key) ?? state.snapshot[$0.key] ?? KernelCounter(packets: 0, bytes: 0) }
            return OffloadCounters(packets: counters.map(\.packets), bytes: counters.map(\.bytes))
        }
    }

    /// The program's own tallies, summed over CPUs: packets forwarded, and packets of known
    /// streams passed to the normal path by reason.
    public var programCounters: XDPProgramCounters {
        state.withLock { state in
            let cpus = Int(max(1, libbpf_num_possible_cpus()))
            var slots = [UInt64](repeating: 0, count: 4)
            for slot in 0..<slots.count {
                let key = withUnsafeBytes(of: UInt32(slot)) { Array($0) }
                guard let values = state.counters.lookup(key: key, size: 8 * cpus) else { continue }
                slots[slot] = values.withUnsafeBytes { raw in
                    (0..<cpus).reduce(0) { $0 &+ raw.loadUnaligned(fromByteOffset: 8 * $1, as: UInt64.self) }
                }
            }
            return XDPProgramCounters(forwarded: slots[0], badChecksum: slots[1], noRoute: slots[2], malformed: slots[3])
        }
    }
}

/// The XDP program's tallies (`ipt_counters`).
public struct XDPProgramCounters: Hashable, Sendable {
    /// Packets forwarded in the kernel.
    public var forwarded: UInt64
    /// Packets of known streams passed because a checksum was wrong or left to the device.
    public var badChecksum: UInt64
    /// Passed because there was no route, no resolved next hop, or the MTU was too small.
    public var noRoute: UInt64
    /// Passed because their lengths did not agree.
    public var malformed: UInt64
}
