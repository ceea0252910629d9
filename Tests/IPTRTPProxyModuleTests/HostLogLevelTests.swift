import Logging
import Synchronization
import Testing
@testable import IPTRTPProxyModule

/// The host's level check (`ipt_mod_set_log_enabled`): the embedded relay's logger follows the
/// host's level at every line, so that a line the host would drop is not even formatted.
@Suite("host log level check", .serialized)
struct HostLogLevelTests {
    /// The most detailed host level the check below lets through (`HostLog.Level` raw value).
    static let hostLevel = Atomic<Int32>(HostLog.Level.info.rawValue)
    /// Lines the sink below received, and how many times a message was formatted.
    static let written = Atomic<Int>(0)
    static let formatted = Atomic<Int>(0)

    static let check: HostLog.Check = { level in level <= HostLogLevelTests.hostLevel.load(ordering: .relaxed) ? 1 : 0 }
    static let sink: HostLog.Sink = { _, _, _ in _ = HostLogLevelTests.written.add(1, ordering: .relaxed) }

    /// A message that counts its formatting.
    static func message(_ text: String) -> String {
        _ = formatted.add(1, ordering: .relaxed)
        return text
    }

    @Test("the logger's level follows the host's, and dropped lines are neither formatted nor written")
    func followsHost() {
        HostLog.install(Self.sink)
        HostLog.install(enabled: Self.check)
        defer {
            HostLog.install(enabled: nil)
            HostLog.install(nil)
        }
        let logger = Logger(label: "test") { HostLogHandler(label: $0) }
        Self.hostLevel.store(HostLog.Level.warning.rawValue, ordering: .relaxed)
        #expect(logger.logLevel == .warning)
        let (w0, f0) = (Self.written.load(ordering: .relaxed), Self.formatted.load(ordering: .relaxed))
        logger.info("\(Self.message("dropped"))")
        #expect(Self.written.load(ordering: .relaxed) == w0)
        #expect(Self.formatted.load(ordering: .relaxed) == f0)
        logger.warning("\(Self.message("kept"))")
        #expect(Self.written.load(ordering: .relaxed) == w0 + 1)
        #expect(Self.formatted.load(ordering: .relaxed) == f0 + 1)

        // The host's level changes at run time (kamcmd cfg.set_now_int core debug 3): so does ours.
        Self.hostLevel.store(HostLog.Level.debug.rawValue, ordering: .relaxed)
        #expect(logger.logLevel == .info, "the level set on the handler (.info) still bounds it")
        logger.info("\(Self.message("now kept"))")
        #expect(Self.written.load(ordering: .relaxed) == w0 + 2)
        Self.hostLevel.store(-1, ordering: .relaxed)
        #expect(logger.logLevel == .error)
    }

    @Test("without a check every line goes to the sink, at the handler's own level")
    func withoutCheck() {
        HostLog.install(enabled: nil)
        #expect(HostLog.isEnabled(.debug))
        var logger = Logger(label: "test") { HostLogHandler(label: $0) }
        #expect(logger.logLevel == .info)
        logger.logLevel = .debug
        #expect(logger.logLevel == .debug)
    }
}
