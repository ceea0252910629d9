import Foundation

/// CPU time consumed by a set of processes (all their threads), for "relay CPU µs per packet".
/// Reads the per-thread scheduler clock (/proc/PID/task/TID/schedstat, ns) and falls back to
/// utime+stime of /proc/PID/stat (clock ticks) where schedstat is missing.
enum ProcessCPU {
    static func nanoseconds(of pids: [Int32]) -> UInt64? {
        var total: UInt64 = 0
        for pid in pids {
            guard let ns = schedstatNanoseconds(pid) ?? statNanoseconds(pid) else { return nil }
            total += ns
        }
        return total
    }

    private static func schedstatNanoseconds(_ pid: Int32) -> UInt64? {
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var total: UInt64 = 0
        var any = false
        for tid in tids {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8),
                  let first = text.split(separator: " ").first, let ns = UInt64(first)
            else { continue }
            total += ns
            any = true
        }
        return any ? total : nil
    }

    private static func statNanoseconds(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "comm)" start at field 3 (state); utime and stime are fields 14 and 15.
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count > 12, let utime = UInt64(rest[11]), let stime = UInt64(rest[12]) else { return nil }
        let tick = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        return (utime + stime) * (1_000_000_000 / max(tick, 1))
    }
}
