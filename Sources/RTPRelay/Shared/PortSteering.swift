/// The seam for shared-socket mode's kernel part (`RelayConfiguration.sharedSockets`): something
/// that makes the kernel hand every UDP packet for the gates' port ranges to one receive socket
/// per forwarding thread, and keeps those ports from reaching any other socket. The relay's
/// implementation is the sk_lookup eBPF program (target KernelOffload, `SKLookupSteering`).
///
/// The engine calls `start` once when it starts (before any session is restored) and `stop` when
/// it stops, from one thread at a time.
public protocol PortSteering: AnyObject, Sendable {
    /// A short name for the log.
    var name: String { get }
    /// Steers every UDP packet for a port of `ranges` to `sockets[2 * thread + (IPv6 ? 1 : 0)]`,
    /// `thread` being the forwarding thread of the port's session (global index modulo
    /// `sockets.count / 2`); -1 where a thread has no socket of that family. Throws when the
    /// kernel refuses (no CAP_BPF/CAP_NET_ADMIN, no sk_lookup support): the engine then opens a
    /// socket per port.
    func start(ranges: [GatePortRange], sockets: [Int32]) throws
    /// Stops steering (the ports are free for the kernel's normal lookup again).
    func stop()
}
