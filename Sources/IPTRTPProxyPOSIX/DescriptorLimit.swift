import Glibc

/// The process's file descriptor limit (`RLIMIT_NOFILE`).
public enum DescriptorLimit {
    /// The soft limit now: how many descriptors this process may hold (`Int.max` when unlimited,
    /// 1024 if it cannot be read).
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is the largest rlim_t: Int.max
    }
}
