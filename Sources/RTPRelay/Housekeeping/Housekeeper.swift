import IPTRTPProxyPOSIX

/// The housekeeping thread (`ipt-housekeep`): one `SessionOperations.housekeepingRound()` per
/// interval until the engine's stop pipe is signalled.
enum Housekeeper {
    /// Starts the thread.
    static func start(operations: SessionOperations, intervalMilliseconds: Int32, stop: WakeupPipe) throws -> PosixThread {
        try PosixThread(name: "ipt-housekeep") {
            while !stop.wait(milliseconds: intervalMilliseconds) {
                operations.housekeepingRound()
            }
        }
    }
}
