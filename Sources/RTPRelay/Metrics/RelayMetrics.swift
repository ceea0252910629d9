import IPTRTPProxyCore
import Prometheus

/// The relay's counters as Prometheus metrics. The forwarding threads keep plain counters (no
/// atomics on the hot path); each scrape reads `RelayEngine.statistics()` and moves the
/// Prometheus counters forward by what happened since the previous scrape.
final class RelayMetrics {
    let registry = PrometheusCollectorRegistry()
    private var exported: [String: UInt64] = [:]
    private var counters: [String: Counter] = [:]
    private var gauges: [String: Gauge] = [:]

    /// Brings the metrics up to `stats` and `info` and renders the text exposition format;
    /// `sides` holds per switchboard (in `info` order) what side a's and side b's clients sent.
    func render(_ stats: RelayStatistics, info: RelayInfo, sides: [[StreamCounters]] = [], offloadedStreams: Int = 0) -> [UInt8] {
        gauge("sessions", "active", [], "Live sessions").set(Int64(stats.sessionsActive))
        gauge("uptime", "seconds", [], "Seconds since the relay started").set(Int64(stats.uptime))
        advance("sessions_allocated", [], stats.sessionsAllocated, "Sessions allocated")
        advance("sessions_deleted", [], stats.sessionsDeleted, "Sessions deleted by request")
        advance("sessions_expired", [], stats.sessionsExpired, "Sessions expired for lack of packets")
        advance("alloc_failures", [], stats.allocationFailures, "Allocations refused")
        advance("control_requests", [], stats.controlRequests, "Control requests served")
        advance("control_errors", [], stats.controlErrors, "Control requests answered with an error")
        renderCapacity(info)
        // State of the parts an operator watches: the session store (journal or Redis) takes
        // writes, and whether streams are forwarded in the kernel.
        if let store = stats.store {
            gauge("store", "up", [("location", store.location)], "1 when the session store (journal, Redis) takes writes, else 0")
                .set(Int64(store.up ? 1 : 0))
        }
        gauge("kernel_offload", "enabled", [("offload", info.offload)], "1 when latched streams are forwarded in the kernel, else 0")
            .set(Int64(info.offload == "none" ? 0 : 1))
        gauge("offloaded_streams", "active", [], "Live streams forwarded in the kernel now").set(Int64(offloadedStreams))
        if let offload = stats.offload {
            let help = "Streams handed to the kernel offload, by outcome (refused and table-full stay in user space)"
            advance("offload_streams", [("result", "installed")], offload.installs, help)
            advance("offload_streams", [("result", "refused")], offload.refusals, help)
            advance("offload_streams", [("result", "table-full")], offload.tableFull, help)
        }
        for (s, sw) in stats.switchboards.enumerated() {
            let labels = [("switchboard", sw.name)]
            gauge("switchboard_sessions", "active", labels, "Live sessions per switchboard").set(Int64(sw.sessionsActive))
            advance("packets", labels, sw.counters.packets, "Packets forwarded")
            advance("bytes", labels, sw.counters.bytes, "Bytes forwarded")
            if s < sides.count {
                for (side, c) in zip(["a", "b"], sides[s]) {
                    let l = labels + [("side", side)]
                    advance("side_packets", l, c.packets, "Packets forwarded from the clients of one side (a: toward side b)")
                    advance("side_bytes", l, c.bytes, "Bytes forwarded from the clients of one side (a: toward side b)")
                }
            }
            // RTP quality (RFC 3550): packets the clients' sequence numbers announced and those that
            // never came (duplicates offset losses, so the counter may stand still for a while).
            advance("rtp_expected_packets", labels, sw.counters.expected, "RTP packets the clients' sequence numbers announced")
            advance("rtp_lost_packets", labels, UInt64(max(0, sw.counters.lost)), "RTP packets lost between clients and the relay")
            gauge("rtp_jitter_max", "seconds", labels, "Worst interarrival jitter of a live RTP stream")
                .set(Double(sw.counters.jitterMicroseconds ?? 0) / 1_000_000)
            for reason in DropReason.allCases {
                advance("dropped_packets", labels + [("reason", reason.name)], sw.counters[reason], "Packets dropped, by reason")
            }
        }
        return registry.emitToBuffer()
    }

    /// Capacity per switchboard and in all: sessions and ports not held by a live session (a
    /// session holds an RTP and an RTCP port on each gate).
    private func renderCapacity(_ info: RelayInfo) {
        var free = 0, capacity = 0
        for sw in info.switchboards {
            let labels = [("switchboard", sw.switchboard.name)]
            let max = sw.switchboard.maxSessions, idle = Swift.max(0, max - sw.sessionsInUse)
            free += idle
            capacity += max
            gauge("switchboard_sessions", "capacity", labels, "Sessions a switchboard holds at most").set(Int64(max))
            gauge("switchboard_sessions", "free", labels, "Sessions a switchboard can still allocate").set(Int64(idle))
            gauge("switchboard_sessions", "kept", labels, "Ended sessions whose sockets stay bound for the next session on their ports")
                .set(Int64(sw.sessionsKept))
            gauge("switchboard_ports", "capacity", labels, "UDP ports of a switchboard's gates").set(Int64(4 * max))
            gauge("switchboard_ports", "free", labels, "UDP ports of a switchboard's gates held by no session").set(Int64(4 * idle))
        }
        gauge("sessions", "capacity", [], "Sessions all switchboards hold at most").set(Int64(capacity))
        gauge("sessions", "free", [], "Sessions all switchboards can still allocate").set(Int64(free))
    }

    /// The gauge `iptrtpproxy_<name>_<unit>{labels}`, made on first use.
    private func gauge(_ name: String, _ unit: String, _ labels: [(String, String)], _ help: String) -> Gauge {
        let key = name + "_" + unit + labels.map { "|\($0.0)=\($0.1)" }.joined()
        if let g = gauges[key] { return g }
        let g = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "iptrtpproxy", metricName: name, unitName: unit, helpText: help),
            labels: labels)
        gauges[key] = g
        return g
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
