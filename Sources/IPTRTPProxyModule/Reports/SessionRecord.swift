import IPTRTPProxyCore

extension SessionSnapshot {
    /// The session as one record of `iptrtpproxy.list`: its id as the script sees it (with the
    /// media host when the proxy has several), switchboard, host, Call-ID, relay ports, each
    /// side's SDP address and latched source (RTP), packets, bytes and drops from each side (RTP
    /// and RTCP together), age and idle seconds. Every field the RPC shows is named here, once:
    /// a new field is one line.
    func rpcRecord(host: String?) -> RPCValue {
        let a = sides[0], b = sides[1]
        return .object([
            RPCMember("id", .text(SessionIDList(switchboard: switchboard, host: host, entries: [handle]).description)),
            RPCMember("switchboard", .text(switchboard)),
            RPCMember("host", .text(host ?? "")),
            // Empty for a session the proxy named no call for (an older relay, a CLI alloc).
            RPCMember("call-id", .text(call?.callID ?? "")),
            RPCMember("from-tag", .text(call?.fromTag ?? "")),
            RPCMember("port-a", .count(rtpPorts[0])),
            RPCMember("port-b", .count(rtpPorts[1])),
            RPCMember("address-a", .text(a.streams[0].expected?.description ?? "")),
            RPCMember("address-b", .text(b.streams[0].expected?.description ?? "")),
            RPCMember("latched-a", .text(a.streams[0].latched?.description ?? "")),
            RPCMember("latched-b", .text(b.streams[0].latched?.description ?? "")),
            RPCMember("packets-a", .count(a.counters.packets)),
            RPCMember("packets-b", .count(b.counters.packets)),
            RPCMember("bytes-a", .count(a.counters.bytes)),
            RPCMember("bytes-b", .count(b.counters.bytes)),
            RPCMember("drops-a", .count(a.counters.dropped)),
            RPCMember("drops-b", .count(b.counters.dropped)),
            RPCMember("age", .count(age)),
            RPCMember("idle", .count(idle)),
        ])
    }
}
