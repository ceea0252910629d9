import Synchronization

/// The host's log, as the module glue installed it (`ipt_mod_set_log_sink`). Every line the module
/// writes goes through here, so that it lands in the proxy's own log with the proxy's levels.
enum HostLog {
    /// Severity, numbered as `enum ipt_mod_log_level` in ipt_mod.h.
    enum Level: Int32 {
        case error = 0, warning, notice, info, debug
    }

    /// The C function the glue gives us (`ipt_mod_log_sink_t`).
    typealias Sink = @convention(c) (Int32, UnsafePointer<CChar>?, Int32) -> Void

    /// The sink, nil until the glue sets it (lines are dropped). Its lock is also held while a
    /// line is written: the embedded relay logs from several threads, and the host's log is not
    /// thread-aware, so one line at a time keeps the lines whole. (A worker process has one thread;
    /// there the lock is never contended.)
    private static let sink = Mutex<Sink?>(nil)

    /// Installs (or, with nil, removes) the host's sink.
    static func install(_ newSink: Sink?) {
        sink.withLock { $0 = newSink }
    }

    /// The C function that says whether the host writes a level now (`ipt_mod_log_enabled_t`).
    typealias Check = @convention(c) (Int32) -> Int32

    /// The host's level check; nil: every line goes to the sink.
    private static let check = Mutex<Check?>(nil)

    /// Installs (or, with nil, removes) the host's level check.
    static func install(enabled newCheck: Check?) {
        check.withLock { $0 = newCheck }
    }

    /// Whether the host writes lines of `level` now (true without a check: the sink decides).
    static func isEnabled(_ level: Level) -> Bool {
        guard let c = check.withLock({ $0 }) else { return true }
        return c(level.rawValue) != 0
    }

    /// The most detailed level the host writes now (one look at the check, not one per level).
    static var mostDetailedLevel: Level {
        guard let c = check.withLock({ $0 }) else { return .debug }
        for level in [Level.debug, .info, .notice, .warning] where c(level.rawValue) != 0 { return level }
        return .error
    }

    /// Writes one line.
    static func write(_ level: Level, _ message: String) {
        var text = message
        text.withUTF8 { bytes in
            // The sink gets a NUL-terminated copy, so hosts may pass it on as a C string.
            let count = bytes.count
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: count + 1)
            defer { buffer.deallocate() }
            if let base = bytes.baseAddress {
                UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: count)
            }
            buffer[count] = 0
            sink.withLock { sink in
                sink?(level.rawValue, buffer, Int32(clamping: count))
            }
        }
    }

    static func error(_ message: String) { write(.error, message) }
    static func warning(_ message: String) { write(.warning, message) }
    static func notice(_ message: String) { write(.notice, message) }
    static func info(_ message: String) { write(.info, message) }
    static func debug(_ message: String) { write(.debug, message) }
}
