import IPTRTPProxyCore
import Prometheus

/// The relay's counters as Prometheus metrics. The forwarding threads keep plain counters (no
/// atomics on the hot path); each scrape reads `RelayEngine.statistics()` and moves the
/// Prometheus counters forward by what happened since the previous scrape.
final class RelayMetrics {
    let registry = PrometheusCollectorRegistry()
    private var exported: [String: UInt64] = [:]
    private var counters: [String: Counter] = [:]
    private let sessionsActive: Gauge
    private let uptime: Gauge
    /// Live sessions per switchboard: what a proxy's `iptrtpproxy.relays` shows as this host's sessions.
    private var switchboardSessions: [String: Gauge] = [:]
    /// The worst interarrival jitter of a live RTP stream per switchboard (0 when none is known).
    private var switchboardJitter: [String: Gauge] = [:]

    init() {
        sessionsActive = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "iptrtpproxy", metricName: "sessions", unitName: "active", helpText: "Live sessions"))
        uptime = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "iptrtpproxy", metricName: "uptime", unitName: "seconds", helpText: "Seconds since the relay started"))
    }

    /// Brings the metrics up to `stats` and renders the text exposition format.
    func render(_ stats: RelayStatistics) -> [UInt8] {
        sessionsActive.set(Int64(stats.sessionsActive))
        uptime.set(Int64(stats.uptime))
        advance("sessions_allocated", [], stats.sessionsAllocated, "Sessions allocated")
        advance("sessions_deleted", [], stats.sessionsDeleted, "Sessions deleted by request")
        advance("sessions_expired", [], stats.sessionsExpired, "Sessions expired for lack of packets")
        advance("alloc_failures", [], stats.allocationFailures, "Allocations refused")
        advance("control_requests", [], stats.controlRequests, "Control requests served")
        advance("control_errors", [], stats.controlErrors, "Control requests answered with an error")
        for sw in stats.switchboards {
            let labels = [("switchboard", sw.name)]
            let gauge = switchboardSessions[sw.name] ?? registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "iptrtpproxy", metricName: "switchboard_sessions", unitName: "active",
                    helpText: "Live sessions per switchboard"),
                labels: labels)
            switchboardSessions[sw.name] = gauge
            gauge.set(Int64(sw.sessionsActive))
            advance("packets", labels, sw.counters.packets, "Packets forwarded")
            advance("bytes", labels, sw.counters.bytes, "Bytes forwarded")
            // RTP quality (RFC 3550): packets the clients' sequence numbers announced and those that
            // never came (duplicates offset losses, so the counter may stand still for a while).
            advance("rtp_expected_packets", labels, sw.counters.expected, "RTP packets the clients' sequence numbers announced")
            advance("rtp_lost_packets", labels, UInt64(max(0, sw.counters.lost)), "RTP packets lost between clients and the relay")
            let jitter = switchboardJitter[sw.name] ?? registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "iptrtpproxy", metricName: "rtp_jitter_max", unitName: "seconds",
                    helpText: "Worst interarrival jitter of a live RTP stream"),
                labels: labels)
            switchboardJitter[sw.name] = jitter
            jitter.set(Double(sw.counters.jitterMicroseconds ?? 0) / 1_000_000)
            for reason in DropReason.allCases {
                advance("dropped_packets", labels + [("reason", reason.name)], sw.counters[reason], "Packets dropped, by reason")
            }
        }
        return registry.emitToBuffer()
    }

    /// Moves counter `iptrtpproxy_<name>_total{labels}` up to `value`.
    private func advance(_ name: String, _ labels: [(String, String)], _ value: UInt64, _ help: String) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let counter: Counter
        if let c = counters[key] {
            counter = c
        } else {
            let descriptor = MetricNameDescriptor(namespace: "iptrtpproxy", metricName: name, unitName: "total", helpText: help)
            counter = registry.makeCounter(descriptor: descriptor, labels: labels)
            counters[key] = counter
        }
        let previous = exported[key] ?? 0
        if value > previous { counter.increment(by: Int64(clamping: value - previous)) }
        exported[key] = max(previous, value)
    }
}
