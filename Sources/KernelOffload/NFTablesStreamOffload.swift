import Glibc
import IPTRTPProxyCore
import RTPRelay
import Synchronization

/// The relay engine's kernel offload (`RelayConfiguration.offload`) over nf_tables: the engine's
/// streams as `NFTablesOffload` streams. Creating it creates the table (replacing one a crashed
/// relay left, so that every stream starts in user space and is offloaded again once latched);
/// call `stop()` when the relay exits to delete it.
///
/// The engine calls it from its control path and its housekeeping thread; everything it knows
/// (the table's socket, the streams in the kernel, the last counter snapshot) is one state behind
/// one lock, so calls from both threads cannot interleave.
public final class NFTablesStreamOffload: StreamOffload, Sendable {
    /// `nftables`, for `info`.
    public var name: String { "nftables" }

    private struct State {
        /// The table and its netlink socket.
        let offload: NFTablesOffload
        var installed: [OffloadedStream.Key: KernelStream] = [:]
        var snapshot: [Endpoint: KernelCounter] = [:]
        var snapshotTime: UInt64 = 0
        var lastError: KernelOffloadError?
    }

    private let state: Mutex<State>

    /// A counter snapshot serves the `counters` calls of one housekeeping round: one dump of the
    /// map per round instead of one per stream.
    public static let snapshotNanoseconds: UInt64 = 200_000_000

    /// Opens netlink and creates the table. Throws (and leaves the relay in user space) when the
    /// kernel refuses: no CAP_NET_ADMIN, no nf_tables, IP forwarding off.
    public init(table: String = NFTablesOffload.defaultTable) throws {
        let offload = try NFTablesOffload(table: table)
        try offload.start()
        state = Mutex(State(offload: offload))
    }

    /// Deletes the table: every stream goes back to user space (relay exit).
    public func stop() throws {
        try state.withLock { state in
            state.installed = [:]
            try state.offload.stop()
        }
    }

    /// The streams in the kernel now.
    public var installedCount: Int { state.withLock { $0.installed.count } }

    /// The last error of a call that cannot throw (`remove`, `counters`), for the host to log.
    public var lastError: KernelOffloadError? { state.withLock { $0.lastError } }

    /// Puts the stream's two directions in the map; throws (and the stream stays in user space)
    /// when the kernel refuses or a client is not reached through an interface.
    public func install(_ stream: OffloadedStream) throws {
        let s = try Self.kernelStream(stream)
        try state.withLock { state in
            try state.offload.install(s)
            state.installed[stream.key] = s
        }
    }

    /// Re-points an installed stream in one transaction (installs one that is not).
    public func update(_ stream: OffloadedStream) throws {
        let new = try Self.kernelStream(stream)
        try state.withLock { state in
            if let old = state.installed[stream.key] {
                try state.offload.repoint(old, to: new)
            } else {
                try state.offload.install(new)
            }
            state.installed[stream.key] = new
        }
    }

    /// Takes the stream out of the kernel; a refusal is kept in `lastError`, since the engine
    /// forgets the stream either way.
    public func remove(_ key: OffloadedStream.Key) {
        state.withLock { state in
            guard let s = state.installed.removeValue(forKey: key) else { return }
            do { try state.offload.remove([s]) } catch let e as KernelOffloadError { state.lastError = e } catch {}
        }
    }

    /// The stream's kernel counters per side, from a map dump at most `snapshotNanoseconds` old;
    /// nil for a stream not installed, or when the dump fails (then `lastError` says why).
    public func counters(_ key: OffloadedStream.Key) -> OffloadCounters? {
        state.withLock { state in
            guard let s = state.installed[key] else { return nil }
            let now = Self.monotonicNanoseconds()
            if now &- state.snapshotTime > Self.snapshotNanoseconds {
                do {
                    state.snapshot = try state.offload.counters()
                    state.snapshotTime = now
                } catch let e as KernelOffloadError {
                    state.lastError = e
                    return nil
                } catch {
                    return nil
                }
            }
            let a = state.snapshot[s.a.relay] ?? KernelCounter(packets: 0, bytes: 0)
            let b = state.snapshot[s.b.relay] ?? KernelCounter(packets: 0, bytes: 0)
            return OffloadCounters(packets: [a.packets, b.packets], bytes: [a.bytes, b.bytes])
        }
    }

    /// The engine's description of a stream as the kernel path takes it.
    static func kernelStream(_ s: OffloadedStream) throws -> KernelStream {
        guard s.gates.count == 2, s.clients.count == 2 else {
            throw KernelOffloadError("stream \(s.key.switchboard):\(s.key.session)/\(s.key.stream): needs two gates and two clients")
        }
        return KernelStream(a: KernelLeg(relay: s.gates[0], peer: s.clients[0]),
                            b: KernelLeg(relay: s.gates[1], peer: s.clients[1]))
    }

    static func monotonicNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
