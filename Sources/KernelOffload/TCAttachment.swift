import CIPTRTPProxyBPF
import Glibc
import IPTRTPProxyCore

/// Attaching and detaching the fast path's tc program (`ipt_tc_relay`, `--xdp-mode tc`) at an
/// interface's ingress: a direct-action BPF classifier under the interface's clsact qdisc, at a
/// filter position (handle and priority) of its own, so that an operator's own filters on the
/// same hook stay where they are and still see every packet the program hands on.
///
/// tc filters, like XDP programs, outlive the process that attached them: a relay killed with
/// SIGKILL leaves its filter (and the streams in its maps) in place until the next relay on the
/// host replaces it or an operator deletes it (`tc filter del dev IF ingress handle 0x1a7 prio 423 bpf`).
enum TCAttachment {
    /// The program's name in the object and in `bpftool prog show`.
    static let programName = "ipt_tc_relay"
    /// The filter's handle and priority under clsact ingress (`tc filter show dev IF ingress`).
    static let handle: UInt32 = 0x1a7
    static let priority: UInt32 = 423

    /// Attaches program `fd` to interface `index`'s ingress (creating the clsact qdisc where there
    /// is none). Ours, left by an earlier relay, is replaced; a foreign filter at our position
    /// makes this throw, and stays.
    static func attach(program fd: Int32, to name: String, index: UInt32) throws {
        try withHook(index) { hook in
            let created = bpf_tc_hook_create(hook)
            guard created == 0 || created == -EEXIST else {
                throw KernelOffloadError.system("tc: clsact qdisc on \(name)", -created)
            }
            var flags: UInt32 = 0
            if let id = attachedProgram(hook) {
                let owner = XDPAttachment.programName(id: id) ?? "id \(id)"
                guard owner == programName else {
                    throw KernelOffloadError("tc: \(name) has another filter at handle 0x\(String(handle, radix: 16)) priority \(priority) (\(owner), id \(id)); left alone")
                }
                flags = UInt32(BPF_TC_F_REPLACE.rawValue)
            }
            let rc = withBPFOptions(bpf_tc_opts.self) { options in
                options.pointee.prog_fd = fd
                options.pointee.flags = flags
                options.pointee.handle = handle
                options.pointee.priority = priority
                return bpf_tc_attach(hook, options)
            }
            guard rc == 0 else { throw KernelOffloadError.system("tc: attach to \(name) ingress", -rc) }
        }
    }

    /// Takes our filter off interface `index` (no error when it is gone; a foreign one stays).
    /// The clsact qdisc stays: other filters may hang on it.
    static func detach(_ index: UInt32) {
        withHook(index) { hook in
            guard let id = attachedProgram(hook), XDPAttachment.programName(id: id) == programName else { return }
            _ = withBPFOptions(bpf_tc_opts.self) { options in
                options.pointee.handle = handle
                options.pointee.priority = priority
                return bpf_tc_detach(hook, options)
            }
        }
    }

    /// The id of the program at our filter position, or nil when there is none.
    private static func attachedProgram(_ hook: UnsafeMutablePointer<bpf_tc_hook>) -> UInt32? {
        withBPFOptions(bpf_tc_opts.self) { options in
            options.pointee.handle = handle
            options.pointee.priority = priority
            guard bpf_tc_query(hook, options) == 0, options.pointee.prog_id != 0 else { return nil }
            return options.pointee.prog_id
        }
    }

    private static func withHook<Result>(_ index: UInt32, _ body: (UnsafeMutablePointer<bpf_tc_hook>) throws -> Result) rethrows -> Result {
        try withBPFOptions(bpf_tc_hook.self) { hook in
            hook.pointee.ifindex = Int32(index)
            hook.pointee.attach_point = BPF_TC_INGRESS
            return try body(hook)
        }
    }
}
