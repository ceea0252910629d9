import CIPTRTPProxyBPF
import Logging
import Synchronization

/// libbpf's messages (the verifier's reasons among them, thousands of lines) as debug lines of
/// `iptrtpproxy.bpf`: the operator sees the one error the offload throws, and `--log-level debug`
/// shows the details.
enum BPFLog {
    private static let installed = Mutex(false)

    /// Routes libbpf's output here, once per process.
    static func install() {
        installed.withLock { done in
            guard !done else { return }
            done = true
            ipt_bpf_set_log { _, line in
                guard let line else { return }
                Logger(label: "iptrtpproxy.bpf").debug("\(String(cString: line))")
            }
        }
    }
}
