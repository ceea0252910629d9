import IPTRTPProxyCore

extension RelayStatistics {
    /// `iptrtpproxy.stats` of one relay: an object of numbers (uptime, sessions, control requests,
    /// packets, bytes, drops by reason, RTP loss), then `switchboards`, one such object per
    /// switchboard with its name.
    var rpcRecord: RPCValue {
        var members = [
            RPCMember("uptime", .count(uptime)),
            RPCMember("sessions-active", .count(sessionsActive)),
            RPCMember("sessions-allocated", .count(sessionsAllocated)),
            RPCMember("sessions-deleted", .count(sessionsDeleted)),
            RPCMember("sessions-expired", .count(sessionsExpired)),
            RPCMember("alloc-failures", .count(allocationFailures)),
            RPCMember("control-requests", .count(controlRequests)),
            RPCMember("control-errors", .count(controlErrors)),
        ] + counters.rpcMembers
        if let store { members.append(RPCMember("store-up", .count(store.up ? 1 : 0))) }
        members.append(RPCMember("switchboards", .array(switchboards.map(\.rpcRecord))))
        return .object(members)
    }

    /// The record of switchboard `name` alone, or nil when this relay has no such switchboard.
    func rpcRecord(switchboard name: String) -> RPCValue? {
        switchboards.first { $0.name == name }?.rpcRecord
    }
}

extension RelayStatistics.SwitchboardStatistics {
    /// `{name, sessions-active, packets, bytes, drops...}`.
    var rpcRecord: RPCValue {
        .object([RPCMember("name", .text(name)), RPCMember("sessions-active", .count(sessionsActive))] + counters.rpcMembers)
    }
}

extension StreamCounters {
    /// Packets, bytes, drops (all, then per reason: `drops-unknown-source`, ...), RTP packets
    /// expected and lost.
    var rpcMembers: [RPCMember] {
        [RPCMember("packets", .count(packets)), RPCMember("bytes", .count(bytes)), RPCMember("drops", .count(dropped))]
            + DropReason.allCases.map { RPCMember("drops-\($0.name)", .count(self[$0])) }
            + [RPCMember("rtp-expected", .count(expected)), RPCMember("rtp-lost", .count(lost))]
    }
}

extension RPCValue {
    /// The sum of the numbers that `objects` have under the same name (members that are not
    /// numbers in every object, and those named in `except`, are left out), in the first object's
    /// order: the totals over several media hosts.
    static func sumOfNumbers(_ objects: [RPCValue], except: Set<String>) -> [RPCMember] {
        guard case .object(let first)? = objects.first else { return [] }
        return first.compactMap { m -> RPCMember? in
            guard !except.contains(m.name) else { return nil }
            var total: Int64 = 0
            for o in objects {
                guard let n = o[m.name]?.numberValue else { return nil }
                total = total.addingReportingOverflow(n).overflow ? .max : total + n
            }
            return RPCMember(m.name, .number(total))
        }
    }
}
