extension ScriptFunctions {
    /// `iptrtpproxy_update(flags, session_ids)`: applies a new offer or an answer to the sessions of
    /// `session_ids`. Active media keep (and re-point) their session; media that were removed or set
    /// to port 0 release theirs; new active media get new sessions. Only media with a session are
    /// rewritten. Publishes the new `session_ids` and `sdp_ip`. An SDP after which the call would
    /// hold more sessions than the switchboard's `max-call-sessions` is refused before any change.
    ///
    /// Unlike the original, the number of `m=` lines may change, and media without a session are
    /// left as they are instead of being forced to port 0 (what the documentation intended).
    /// `signal` is the source address of the SIP message, as for `alloc`.
    public func update(
        flags: ScriptFlags, sessionIDs text: String, body: [UInt8], contentType: String?,
        signal: IPAddress? = nil, call: CallIdentity? = nil, selects: inout SelectValues
    ) -> FunctionResult {
        let ids: SessionIDList
        do { ids = try SessionIDList(parsing: text) } catch { return .failure("update: \(error)") }
        guard let sw = switchboards.named(ids.switchboard) else {
            return .failure("update: unknown switchboard '\(ids.switchboard)' in session ids '\(text)'")
        }
        let located: LocatedSDP
        switch locateSDP(body, contentType: contentType) {
        case .success(let l): located = l
        case .failure(let f): return .failure("update: \(f.reason)")
        }
        let sdp = located.sdp
        let media = sdp.media
        var entries: [SessionHandle?] = media.indices.map { $0 < ids.entries.count ? ids.entries[$0] : nil }

        // Two media that share an address must share a session, and the other way round.
        for i in media.indices where media[i].isActive && entries[i] != nil {
            for j in (i + 1)..<media.count where media[j].isActive && entries[j] != nil {
                let sameAddress = ShareKey(media[i]) == ShareKey(media[j])
                let sameSession = entries[i]!.id == entries[j]!.id
                if sameAddress != sameSession {
                    return .failure("update: m= lines \(media[i].line) and \(media[j].line) "
                        + (sameAddress ? "share an address but not a session" : "share a session but not an address"))
                }
            }
        }

        if let refusal = callCapRefusal(sw, MediaAssignment.sessionCount(media, entries: entries)) {
            return .failure("update: \(refusal)")
        }
        var assignment = MediaAssignment(sdp, entries: entries, gate: sw.gate(flags.rewriteSide))
        let ice = relayICECredentials(sw)
        var updated = Set<Int>()

        for (i, m) in media.enumerated() where m.isActive {
            if let handle = entries[i] {
                if updated.insert(handle.id).inserted {
                    do {
                        try plane.updateSession(
                            switchboard: sw.name, session: handle,
                            request: sourceRequest(sw, flags, media: m, signal: signal, ice: ice, call: call))
                    } catch {
                        let warnings = deleteHandles(sw.name, assignment.allocated)
                        return .failure("update of \(sw.name):\(handle) for m= line \(m.line): \(error)", warnings: warnings)
                    }
                }
                assignment.assign(i, m, handle, port: sw.gate(flags.rewriteSide).rtpPort(session: handle.id))
            } else if !assignment.shareEarlier(i, m) {
                do {
                    try assignment.allocate(i, m, on: plane, switchboard: sw.name,
                                            request: sourceRequest(sw, flags, media: m, signal: signal, ice: ice, call: call), side: flags.rewriteSide)
                } catch {
                    let warnings = deleteHandles(sw.name, assignment.allocated)
                    return .failure("update on '\(sw.name)': new m= line \(m.line): \(error)", warnings: warnings)
                }
            }
        }
        entries = assignment.entries

        // Sessions no active media uses any more: inactive (port 0) or removed media.
        let kept = Set(media.indices.filter { media[$0].isActive }.compactMap { entries[$0]?.id })
        for i in media.indices where !media[i].isActive { entries[i] = nil }
        let released = ids.entries.compactMap { $0 }.filter { !kept.contains($0.id) }
        let warnings = deleteHandles(sw.name, released)

        let rewritten = SDPRewriter.rewrite(sdp, targets: assignment.targets, removingICE: sw.ice == .remove, forcingICE: ice)
        selects.sessionIDs = SessionIDList(switchboard: sw.name, host: host, entries: entries).description
        selects.sdpIP = rewritten.firstRewrittenAddress ?? ""
        let changed = assignment.targets.allSatisfy({ $0 == nil }) ? nil : splice(body, located.range, rewritten)
        return .success(changed, warnings: warnings)
    }
}
