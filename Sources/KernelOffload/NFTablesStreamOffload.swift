import Glibc
import IPTRTPProxyCore
import RTPRelay

/// The relay engine's kernel offload (`RelayConfiguration.offload`) over nf_tables: the engine's
/// streams as `NFTablesOffload` streams. Creating it creates the table (replacing one a crashed
/// relay left, so that every stream starts in user space and is offloaded again once latched);
/// call `stop()` when the relay exits to delete it.
///
/// The engine calls it one call at a time from its control path and housekeeping thread.
public final class NFTablesStreamOffload: StreamOffload {
    public var name: String { "nftables" }

    /// The table and its netlink socket.
    public let offload: NFTablesOffload
    /// The last error of a call that cannot throw (`remove`, `counters`), for the host to log.
    public private(set) var lastError: KernelOffloadError?

    private var installed: [OffloadedStream.Key: KernelStream] = [:]
    private var snapshot: [Endpoint: KernelCounter] = [:]
    private var snapshotTime: UInt64 = 0

    /// A counter snapshot serves the `counters` calls of one housekeeping round: one dump of the
    /// map per round instead of one per stream.
    public static let snapshotNanoseconds: UInt64 = 200_000_000

    /// Opens netlink and creates the table. Throws (and leaves the relay in user space) when the
    /// kernel refuses: no CAP_NET_ADMIN, no nf_tables, IP forwarding off.
    public init(table: String = NFTablesOffload.defaultTable) throws {
        offload = try NFTablesOffload(table: table)
        try offload.start()
    }

    /// Deletes the table: every stream goes back to user space (relay exit).
    public func stop() throws {
        installed = [:]
        try offload.stop()
    }

    /// The streams in the kernel now.
    public var installedCount: Int { installed.count }

    public func install(_ stream: OffloadedStream) throws {
        let s = try Self.kernelStream(stream)
        try offload.install(s)
        installed[stream.key] = s
    }

    public func update(_ stream: OffloadedStream) throws {
        let new = try Self.kernelStream(stream)
        guard let old = installed[stream.key] else { return try install(stream) }
        try offload.repoint(old, to: new)
        installed[stream.key] = new
    }

    public func remove(_ key: OffloadedStream.Key) {
        guard let s = installed.removeValue(forKey: key) else { return }
        do { try offload.remove([s]) } catch let e as KernelOffloadError { lastError = e } catch {}
    }

    public func counters(_ key: OffloadedStream.Key) -> OffloadCounters? {
        guard let s = installed[key] else { return nil }
        let now = Self.monotonicNanoseconds()
        if now &- snapshotTime > Self.snapshotNanoseconds {
            do {
                snapshot = try offload.counters()
                snapshotTime = now
            } catch let e as KernelOffloadError {
                lastError = e
                return nil
            } catch {
                return nil
            }
        }
        let a = snapshot[s.a.relay] ?? KernelCounter(packets: 0, bytes: 0)
        let b = snapshot[s.b.relay] ?? KernelCounter(packets: 0, bytes: 0)
        return OffloadCounters(packets: [a.packets, b.packets], bytes: [a.bytes, b.bytes])
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
