import Logging
import RTPRelay

/// Which kernel path forwards latched streams (`iptrtpproxyd --kernel-offload-path`).
public enum KernelOffloadPath: String, Sendable, CaseIterable, CustomStringConvertible {
    /// XDP where the program loads and attaches to an interface, else nftables.
    case auto
    /// XDP only: the relay refuses to start when it cannot load or attach.
    case xdp
    /// The nf_tables netdev table only (IPv4).
    case nftables

    /// The option's value.
    public var description: String { rawValue }
}

/// A kernel offload the daemon starts and stops.
public protocol StoppableStreamOffload: StreamOffload {
    /// Takes every stream out of the kernel (relay exit).
    func stop() throws
}

extension NFTablesStreamOffload: StoppableStreamOffload {}
extension XDPStreamOffload: StoppableStreamOffload {}

/// Starts the kernel offload the operator asked for.
public enum KernelOffloadStarter {
    /// `auto`: XDP, and when it fails one warning line naming why, then nftables. Throws when the
    /// path asked for (or, with `auto`, both) cannot start.
    public static func start(
        path: KernelOffloadPath, xdpMode: XDPMode = .auto, xdpCapacity: UInt32 = XDPStreamOffload.defaultCapacity,
        logger: Logger
    ) throws -> any StoppableStreamOffload {
        if path != .nftables {
            do {
                let xdp = try XDPStreamOffload(mode: xdpMode, capacity: xdpCapacity)
                logger.notice("kernel offload: \(xdp.name), up to \(xdp.capacity / 2) streams")
                return xdp
            } catch {
                if path == .xdp { throw error }
                logger.warning("kernel offload: XDP unavailable (\(error)); using nftables")
            }
        }
        let nft = try NFTablesStreamOffload()
        logger.notice("kernel offload: nftables")
        return nft
    }
}
