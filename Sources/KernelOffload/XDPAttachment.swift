import CIPTRTPProxyBPF
import Glibc
import IPTRTPProxyCore

/// Where the XDP program runs on an interface (`--xdp-mode`).
public enum XDPMode: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Native on interfaces backed by a device of their own (a network card, virtio), generic on
    /// virtual ones (veth, bridges, bonds); native falls back to generic where the driver refuses,
    /// and either to tc where the XDP hook is taken by a foreign program or refused. Measured on
    /// veth (shared/spec/xdp-notes.md, BENCHMARKS.md): generic forwards at 1.0–1.1× plain routing,
    /// native at 0.7–0.8× (veth copies each locally sent packet into a page for native XDP, and a
    /// native redirect into a veth needs NAPI on its peer, which a relay cannot set), tc within
    /// a few percent of generic, sometimes ahead and sometimes behind.
    case auto
    /// In the driver (XDP_FLAGS_DRV_MODE); an interface whose driver refuses is not used.
    case native
    /// After the driver, on the skb (XDP_FLAGS_SKB_MODE): works on every interface.
    case generic
    /// The same path as a tc ingress classifier (`ipt_tc_relay` under clsact): on the skb too,
    /// but without generic XDP's copy of every packet that has less than 256 bytes of headroom
    /// (every packet a local socket sent over a veth), and packets from a network card that
    /// gives the whole packet's checksum keep a correct one. Works on every interface.
    case tc

    /// The option's value.
    public var description: String { rawValue }
}

/// One interface the program is attached to.
public struct XDPInterface: Hashable, Sendable, CustomStringConvertible {
    /// The interface's name.
    public var name: String
    /// Its index in the relay's network namespace.
    public var index: UInt32
    /// `native`, `generic` or `tc` (never `auto`).
    public var mode: XDPMode

    /// `rc (generic)`.
    public var description: String { "\(name) (\(mode))" }
}

/// Attaching and detaching the relay's XDP program, one interface at a time, without ever
/// replacing another program's: an interface that carries a foreign XDP program is left alone.
/// Mode `tc` attaches the object's tc program instead (`TCAttachment`); either way, what an
/// earlier relay of ours left on the interface in the other hook is taken off first, so that no
/// stale program forwards with stale streams behind the new one.
enum XDPAttachment {
    /// The program's name in the object and in `bpftool prog show`.
    static let programName = "ipt_xdp_relay"

    /// True when `name` is backed by a device of its own (/sys/class/net/NAME/device exists):
    /// a network card or virtio, where native XDP is the fast path. Virtual interfaces have none.
    static func hasDevice(_ name: String) -> Bool {
        access("/sys/class/net/\(name)/device", F_OK) == 0
    }

    /// Whether forwarding is on for `name`, per family (/proc/sys/net/ipv{4,6}/conf/NAME/forwarding).
    static func forwarding(_ name: String) -> (v4: Bool, v6: Bool) {
        func on(_ path: String) -> Bool {
            guard let file = fopen(path, "r") else { return false }
            defer { fclose(file) }
            return fgetc(file) == Int32(UInt8(ascii: "1"))
        }
        return (on("/proc/sys/net/ipv4/conf/\(name)/forwarding"), on("/proc/sys/net/ipv6/conf/\(name)/forwarding"))
    }

    /// Attaches program `fd` (`tcProgram` for mode `tc`) to interface `name` in `mode` (`auto`
    /// as `XDPMode.auto` says), trying its modes in order. A program of ours left attached by an
    /// earlier relay, in either hook, is replaced (a restart after a crash). A foreign XDP program
    /// rules out the XDP modes, a foreign tc filter at our position the tc one; either stays.
    /// Returns the interface and why each mode tried before the one it got failed; throws, naming
    /// why each mode failed, when none is left.
    static func attach(program fd: Int32, tcProgram: Int32, to name: String, mode: XDPMode) throws
        -> (interface: XDPInterface, passedOver: [String])
    {
        let index = if_nametoindex(name)
        guard index != 0 else { throw KernelOffloadError.system("XDP: interface \(name)", errno) }
        // A foreign XDP program rules out the XDP hook, not tc's (it runs first, and what it
        // passes reaches our classifier).
        var foreign: String?
        if let (id, attachedMode) = attachedProgram(index) {
            let owner = programName(id: id) ?? "id \(id)"
            if owner == programName {
                detach(index, mode: attachedMode)
            } else {
                foreign = "\(name) carries another XDP program (\(owner), id \(id)); left alone"
            }
        }
        let tried: [XDPMode] = switch mode {
        case .auto: hasDevice(name) ? [.native, .generic, .tc] : [.generic, .tc]
        case .native: [.native]
        case .generic: [.generic]
        case .tc: [.tc]
        }
        var failures: [String] = []
        for m in tried {
            if m == .tc {
                do {
                    try TCAttachment.attach(program: tcProgram, to: name, index: index)
                    return (XDPInterface(name: name, index: index, mode: .tc), failures)
                } catch {
                    failures.append("\(error)")
                    continue
                }
            }
            if let foreign {
                failures.append("\(m): \(foreign)")
                continue
            }
            let rc = bpf_xdp_attach(Int32(index), fd, flags(m), nil)
            if rc == 0 {
                // A filter of ours left in the tc hook by an earlier relay would forward with its
                // stale streams whatever this program passes.
                TCAttachment.detach(index)
                return (XDPInterface(name: name, index: index, mode: m), failures)
            }
            failures.append("\(m): \(String(cString: strerror(-rc)))")
        }
        throw KernelOffloadError("XDP: cannot attach to \(name) (\(failures.joined(separator: "; ")))")
    }

    /// Takes our program off an interface (no error when it is gone).
    static func detach(_ interface: XDPInterface) {
        if interface.mode == .tc { return TCAttachment.detach(interface.index) }
        guard let (id, mode) = attachedProgram(interface.index), programName(id: id) == programName else { return }
        detach(interface.index, mode: mode)
    }

    private static func detach(_ index: UInt32, mode: XDPMode) {
        _ = bpf_xdp_detach(Int32(index), flags(mode), nil)
    }

    private static func flags(_ mode: XDPMode) -> UInt32 {
        mode == .native ? UInt32(XDP_FLAGS_DRV_MODE) : UInt32(XDP_FLAGS_SKB_MODE)
    }

    /// The XDP program on interface `index` and its mode, or nil when there is none.
    static func attachedProgram(_ index: UInt32) -> (id: UInt32, mode: XDPMode)? {
        withBPFOptions(bpf_xdp_query_opts.self) { query in
            guard bpf_xdp_query(Int32(index), 0, query) == 0 else { return nil }
            if query.pointee.skb_prog_id != 0 { return (query.pointee.skb_prog_id, .generic) }
            if query.pointee.drv_prog_id != 0 { return (query.pointee.drv_prog_id, .native) }
            return nil
        }
    }

    /// The name of loaded program `id`, or nil when it cannot be read.
    static func programName(id: UInt32) -> String? {
        let fd = bpf_prog_get_fd_by_id(id)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return nil }
        return withUnsafeBytes(of: info.name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
