import IPTRTPProxyCore

/// What `info`, `list` and `stats` report.
extension RelayEngine {
    /// The relay and its switchboards.
    public func info() -> RelayInfo {
        let usage = operations.usage()
        return RelayInfo(
            relayVersion: configuration.version, uptime: usage.uptime, workers: configuration.workerCount,
            offload: operations.offload?.name ?? "none", journal: configuration.journalPath,
            switchboards: switchboards.all.enumerated().map { s, sw in
                RelayInfo.SwitchboardInfo(switchboard: sw, sessionsInUse: usage.inUse[s], sessionsKept: usage.kept[s])
            })
    }

    /// The live sessions of `switchboard` (all when nil), by switchboard then id.
    public func list(switchboard name: String? = nil) throws -> SessionListing {
        try operations.list(switchboard: name)
    }

    /// Relay-wide counters since start.
    public func statistics() -> RelayStatistics {
        operations.statistics()
    }

    /// Per switchboard (in `info()` order), per side ([a, b]): what that side's clients sent.
    public func sideStatistics() -> [[StreamCounters]] {
        operations.sideStatistics()
    }

    /// Counts a control request and whether it failed (for `stats`).
    func noteControlRequest(failed: Bool) {
        operations.noteControlRequest(failed: failed)
    }
}
