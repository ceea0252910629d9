import CIPTRTPProxy
import Glibc

/// Ties a freshly forked process to the one that forked it: when that one ends, however it ends
/// (SIGKILL included), the kernel kills this one too, so that nothing of a crashed proxy is left
/// holding its ports.
enum ParentDeath {
    /// Asks for SIGKILL at the parent's death, then checks that the parent is still `parent`: had
    /// it died between the fork and this call, this process was already handed to another parent
    /// and the signal would never come. False then (the caller ends the process).
    static func tie(to parent: pid_t) -> Bool {
        guard ipt_set_parent_death_signal(SIGKILL) == 0 else {
            HostLog.error("cannot ask for the parent-death signal: \(String(cString: strerror(errno)))")
            return getppid() == parent
        }
        return getppid() == parent
    }
}
