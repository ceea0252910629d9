/// How a child process ended, decoded from the status `waitpid` gave (the W* macros of
/// <sys/wait.h>, which Swift cannot import).
enum ChildEnd: Equatable, CustomStringConvertible {
    /// It called exit (or returned from main) with this code.
    case exited(code: Int32)
    /// A signal ended it; `core` when it left a core dump.
    case signaled(signal: Int32, core: Bool)

    /// nil for a status that is not an end (stopped or continued).
    init?(waitStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            self = .exited(code: (status >> 8) & 0xff)
        } else if low != 0x7f {
            self = .signaled(signal: low, core: status & 0x80 != 0)
        } else {
            return nil
        }
    }

    /// As a log line says it: `exit 3`, `signal 9`, `signal 11, core dumped`.
    var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let signal, let core): return core ? "signal \(signal), core dumped" : "signal \(signal)"
        }
    }
}
