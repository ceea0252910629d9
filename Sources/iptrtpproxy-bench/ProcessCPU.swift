import Glibc

/// CPU time a process has used so far: the sum over its threads of /proc/PID/task/TID/schedstat
/// (nanoseconds on a CPU, exact), or, where schedstat is missing, /proc/PID/stat's utime + stime
/// (clock ticks of 10 ms: a figure then needs a run of seconds). Threads that ended in between
/// are not counted (the relay's threads live as long as it does).
struct ProcessCPU {
    let pid: Int32

    /// Microseconds on a CPU so far; nil when the process is gone.
    func microseconds() -> Int64? {
        threadsNanoseconds().map { $0 / 1000 } ?? statMicroseconds()
    }

    private func threadsNanoseconds() -> Int64? {
        guard let dir = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(dir) }
        var total: Int64 = 0
        var found = false
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let first = name.first, first.isNumber,
                  let text = Self.firstLine("/proc/\(pid)/task/\(name)/schedstat"),
                  let ns = text.split(separator: " ").first.flatMap({ Int64($0) }) else { continue }
            total += ns
            found = true
        }
        return found ? total : nil
    }

    private func statMicroseconds() -> Int64? {
        guard let text = Self.firstLine("/proc/\(pid)/stat") else { return nil }
        // The command name may hold spaces and parentheses: fields are counted after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ')': state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) * 1_000_000 / max(1, ticks)
    }

    private static func firstLine(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
