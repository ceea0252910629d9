extension ScriptFunctions {
    /// `iptrtpproxy_alloc(flags, switchboard)`: allocates a session for every active media of the
    /// SDP (media sharing an address and port share one), rewrites the SDP towards the opposite gate
    /// and publishes `session_ids` and `sdp_ip`. An empty `switchboard` means the one
    /// `iptrtpproxy_find` matched in this script run. Any failure deletes what was allocated; an
    /// SDP that needs more sessions than the switchboard's `max-call-sessions` allocates none.
    /// `signal` is the source address of the SIP message (Kamailio's received IP): the relay
    /// latches the SDP side's media only from it or from the SDP's address. `call` names the SIP
    /// call (Call-ID, From tag) in the relay's reports.
    public func alloc(
        flags: ScriptFlags, switchboard name: String, body: [UInt8], contentType: String?,
        signal: IPAddress? = nil, call: CallIdentity? = nil, selects: inout SelectValues
    ) -> FunctionResult {
        let chosen = name.isEmpty ? selects.switchboard : name
        guard let chosen else {
            return .failure("alloc: no switchboard given and iptrtpproxy_find matched none in this run")
        }
        guard let sw = switchboards.named(chosen) else {
            return .failure("alloc: unknown switchboard '\(chosen)'")
        }
        let located: LocatedSDP
        switch locateSDP(body, contentType: contentType) {
        case .success(let l): located = l
        case .failure(let f): return .failure("alloc: \(f.reason)")
        }
        let sdp = located.sdp
        if let refusal = callCapRefusal(sw, MediaAssignment.sessionCount(sdp.media, entries: [])) {
            return .failure("alloc: \(refusal)")
        }
        var assignment = MediaAssignment(sdp, gate: sw.gate(flags.rewriteSide))
        let ice = relayICECredentials(sw)

        for (i, media) in sdp.media.enumerated() where media.isActive && !assignment.shareEarlier(i, media) {
            do {
                try assignment.allocate(i, media, on: plane, switchboard: sw.name,
                                        request: sourceRequest(sw, flags, media: media, signal: signal, ice: ice, call: call), side: flags.rewriteSide)
            } catch {
                let warnings = deleteHandles(sw.name, assignment.allocated)
                return .failure("alloc on '\(sw.name)' for m= line \(media.line): \(error)", warnings: warnings)
            }
        }

        let rewritten = SDPRewriter.rewrite(sdp, targets: assignment.targets, removingICE: sw.ice == .remove, forcingICE: ice)
        selects.sessionIDs = SessionIDList(switchboard: sw.name, host: host, entries: assignment.entries).description
        selects.sdpIP = rewritten.firstRewrittenAddress ?? ""
        let changed = assignment.allocated.isEmpty ? nil : splice(body, located.range, rewritten)
        return .success(changed)
    }
}
