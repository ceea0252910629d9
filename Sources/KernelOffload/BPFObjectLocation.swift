import Glibc
import IPTRTPProxyCore

/// Where the relay finds its compiled eBPF objects (`make build` writes build/bpf/, the package
/// installs /usr/lib/iptrtpproxy/bpf/).
public enum BPFObjectLocation {
    /// The folders searched: $IPTRTPPROXY_BPF_DIR alone when it is set (the operator named the
    /// place); else, in order, `bpf/` next to the running binary, `../lib/iptrtpproxy/bpf` from it
    /// (an install under a prefix), /usr/lib/iptrtpproxy/bpf.
    public static var candidates: [String] {
        if let env = getenv("IPTRTPPROXY_BPF_DIR") { return [String(cString: env)] }
        var folders: [String] = []
        if let exe = executableFolder() {
            folders.append(exe + "/bpf")
            folders.append(exe + "/../lib/iptrtpproxy/bpf")
        }
        folders.append("/usr/lib/iptrtpproxy/bpf")
        return folders
    }

    /// The path of object `name` in `directory`, or in the first candidate that has it. Throws,
    /// naming the folders tried, when none has it.
    public static func find(_ name: String, in directory: String? = nil) throws -> String {
        let folders = directory.map { [$0] } ?? candidates
        for folder in folders where access(folder + "/" + name, R_OK) == 0 { return folder + "/" + name }
        throw KernelOffloadError("eBPF: \(name) not found in \(folders.joined(separator: ", ")) (make build compiles it with clang)")
    }

    private static func executableFolder() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
