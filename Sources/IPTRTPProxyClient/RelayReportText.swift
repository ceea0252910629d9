import IPTRTPProxyCore

/// The text the CLI prints for `info`, `list` and `stats` (the JSON forms come straight from the
/// relay: `RelayControlClient.infoJSON()` and friends).

extension RelayInfo {
    /// One line about the relay, then one per switchboard.
    public var text: String {
        var lines = ["iptrtpproxyd \(relayVersion) (protocol \(protocolVersion)), up \(ReportFormat.duration(uptime)), "
            + "\(workers) worker\(workers == 1 ? "" : "s"), offload \(offload), journal \(journal ?? "none")"]
        for info in switchboards {
            let sw = info.switchboard
            var line = "switchboard \(sw.name): gate A \(Endpoint(address: sw.gateA.address, port: sw.gateA.basePort)), "
                + "gate B \(Endpoint(address: sw.gateB.address, port: sw.gateB.basePort)), "
                + "\(info.sessionsInUse)/\(sw.maxSessions) sessions"
                + (info.sessionsKept > 0 ? " (\(info.sessionsKept) ended ones keep their sockets)" : "")
                + ", expires \(sw.expiresTimeout)s, "
                + "resurrection \(sw.resurrectionTimeout)s, ringing \(sw.ringingTimeout)s"
            for side in GateSide.allCases {
                let l = sw.learning(side)
                line += ", learning-\(side.letter) \(l.learningTimeout.map { "\($0)s" } ?? "default")"
                if l.alwaysLearn { line += " always" }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension SessionListing {
    /// A table, one session per line (RTP packets lost and jitter of what each side's client sends,
    /// RFC 3550; the Call-ID the proxy named); `detailed` adds one line per stream with addresses, drops and the RTP figures.
    public func text(detailed: Bool = false) -> String {
        var lines = [ReportFormat.row([
            "SESSION", "PORT-A", "PORT-B", "AGE", "IDLE", "PKTS-A", "PKTS-B", "DROPS", "LOST-A", "LOST-B", "JIT-A", "JIT-B",
            "CALL-ID",
        ])]
        for s in sessions {
            let a = s.sides[0].counters, b = s.sides[1].counters
            lines.append(ReportFormat.row([
                "\(s.switchboard):\(s.handle.id)/\(s.handle.created)", "\(s.rtpPorts[0])", "\(s.rtpPorts[1])",
                "\(s.age)s", "\(s.idle)s", "\(a.packets)", "\(b.packets)", "\(a.dropped + b.dropped)",
                "\(a.lost)", "\(b.lost)", a.jitterMicroseconds.map(ReportFormat.milliseconds) ?? "-",
                b.jitterMicroseconds.map(ReportFormat.milliseconds) ?? "-", s.call?.callID ?? "-",
            ]))
            guard detailed else { continue }
            for side in s.sides {
                for (j, st) in side.streams.enumerated() {
                    var d = "  \(side.side.letter) \(j == 0 ? "rtp " : "rtcp") :\(st.gatePort)"
                        + " expected \(st.expected?.description ?? "-") latched \(st.latched?.description ?? "-")"
                    if let signal = st.signal { d += " signal \(signal)" }
                    if st.held { d += " hold" }
                    if st.learning { d += " learning" + (st.learningLeft.map { " \($0)s" } ?? "") }
                    if side.alwaysLearn { d += " always-learn" }
                    if st.offloaded { d += " kernel" }
                    d += " \(st.counters.packets) pkts \(st.counters.bytes) B"
                    if j == 0 { d += ReportFormat.quality(st.counters, jitter: st.jitter, clockRate: st.clockRate) }
                    for r in DropReason.allCases where st.counters[r] > 0 { d += " \(r.name) \(st.counters[r])" }
                    lines.append(d)
                }
            }
        }
        if sessions.isEmpty { lines.append("(no sessions)") }
        return lines.joined(separator: "\n")
    }
}

extension RelayStatistics {
    /// A few lines: sessions, packets, drops by reason, control requests, then per switchboard.
    public var text: String {
        var lines = [
            "uptime \(ReportFormat.duration(uptime))",
            "sessions: \(sessionsActive) active, \(sessionsAllocated) allocated, \(sessionsDeleted) deleted, "
                + "\(sessionsExpired) expired, \(allocationFailures) refused",
            "packets: \(counters.packets) forwarded (\(counters.bytes) bytes), \(counters.dropped) dropped: "
                + DropReason.allCases.map { "\($0.name) \(counters[$0])" }.joined(separator: ", "),
            "rtp: \(counters.expected) expected, \(counters.lost) lost, worst jitter of a live stream "
                + (counters.jitterMicroseconds.map { ReportFormat.milliseconds($0) } ?? "-"),
            "control: \(controlRequests) requests, \(controlErrors) errors",
        ]
        if let store {
            lines.append("store: \(store.location) \(store.up ? "up" : "DOWN")" + (store.detail.map { ": \($0)" } ?? ""))
        }
        for sw in switchboards {
            lines.append("switchboard \(sw.name): \(sw.sessionsActive) active, \(sw.counters.packets) packets, "
                + "\(sw.counters.bytes) bytes, \(sw.counters.dropped) dropped")
        }
        return lines.joined(separator: "\n")
    }
}

enum ReportFormat {
    static func duration(_ seconds: UInt64) -> String {
        let d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60
        if d > 0 { return "\(d)d\(h)h\(m)m" }
        if h > 0 { return "\(h)h\(m)m\(s)s" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }

    /// ` expected N lost N jitter 1.2ms (10 @8000Hz)` for an RTP stream's line.
    static func quality(_ c: StreamCounters, jitter: UInt32?, clockRate: UInt32?) -> String {
        var d = " expected \(c.expected) lost \(c.lost)"
        if let us = c.jitterMicroseconds {
            d += " jitter \(milliseconds(us))"
            if let jitter, let clockRate { d += " (\(jitter) @\(clockRate)Hz)" }
        } else {
            d += " jitter -"
        }
        return d
    }

    /// Microseconds as `12.3ms`.
    static func milliseconds(_ us: UInt32) -> String { "\(us / 1000).\(us % 1000 / 100)ms" }

    static let widths = [24, 7, 7, 7, 7, 10, 10, 8, 8, 8, 9, 9]

    static func row(_ cells: [String]) -> String {
        var out = ""
        for (i, c) in cells.enumerated() {
            let w = widths[min(i, widths.count - 1)]
            if i == 0 {
                out += c + String(repeating: " ", count: max(1, w - c.count))
            } else {
                out += String(repeating: " ", count: max(1, w - c.count)) + c
            }
        }
        return out
    }
}
