import Synchronization

/// The engine's figures as Prometheus text, for any thread: the metrics keep the counters they
/// exported (they only move forward) behind a lock.
final class MetricsRenderer: Sendable {
    private let engine: RelayEngine
    private let metrics = Mutex(RelayMetrics())

    init(engine: RelayEngine) { self.engine = engine }

    /// The text exposition format of the figures now.
    func render() -> [UInt8] {
        let statistics = engine.statistics(), info = engine.info(), sides = engine.sideStatistics()
        // Counting streams in the kernel walks the sessions: only when offload is on. One kernel
        // entry serves both directions of a stream (RTP or RTCP), marked on both sides' legs.
        let offloaded = info.offload == "none" ? 0 : (try? engine.list())?.sessions.reduce(0) { n, session in
            n + (session.sides.first?.streams.filter(\.offloaded).count ?? 0)
        } ?? 0
        return metrics.withLock { $0.render(statistics, info: info, sides: sides, offloadedStreams: offloaded) }
    }
}
