import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// The prober: one process of the proxy (forked by the host, never a SIP worker) that asks every
/// media host for its `info` each `relay_probe_interval`. A host that answers is marked up (and,
/// when it was down or restarted, its generation moves on, so that workers learn its switchboards
/// again); one that refuses, resets or does not answer within `relay_timeout` is marked down, so
/// that no call waits on it. It also keeps each host's live-session count for the reports, and
/// warns once about `switchboard` modparams that name a switchboard no host declares.
struct RelayProber {
    let pool: RelayPool
    /// The proxy's main process: when it is gone (killed), the prober ends too.
    let mainPID: Int32
    private var warnedNames = Set<String>()
    private var everAnswered: [Bool]

    init(pool: RelayPool, mainPID: Int32) {
        self.pool = pool
        self.mainPID = mainPID
        everAnswered = Array(repeating: false, count: pool.endpoints.count)
    }

    /// Probes until the main process is gone.
    mutating func run() {
        let interval = Int64(pool.configuration.probeInterval)
        HostLog.info("prober: asking \(pool.endpoints.count) media host(s) every \(interval) ms")
        while getppid() == mainPID {
            let start = MonotonicClock.milliseconds()
            var declared: [Switchboard] = []
            for i in pool.endpoints.indices {
                if let switchboards = probe(i) { declared += switchboards }
            }
            warnAboutUndeclaredNames(declared)
            // Sleep out the round in short steps, so that a vanished main process is noticed.
            while getppid() == mainPID {
                let left = start + interval - MonotonicClock.milliseconds()
                guard left > 0 else { break }
                usleep(useconds_t(min(left, 200) * 1000))
            }
        }
    }

    /// One probe of host `i`; its switchboards when it answered.
    private mutating func probe(_ i: Int) -> [Switchboard]? {
        let table = pool.table
        let info: RelayInfo
        do {
            let plane = try pool.host(i).plane
            plane.reset()
            info = try plane.info()
        } catch let e as MediaPlaneError {
            pool.hostFailed(i, e)
            return nil
        } catch {
            pool.hostFailed(i, MediaPlaneError("\(error)", planeUnavailable: true))
            return nil
        }
        everAnswered[i] = true
        table.setSessions(i, info.switchboards.reduce(0) { $0 + $1.sessionsInUse })
        // A relay that restarted between two probes may serve other switchboards now.
        let started = SharedRelayTable.now() &- info.uptime
        let known = table.relayStart(i)
        table.setRelayStart(i, started)
        let names = info.switchboards.map(\.switchboard.name)
        if table.markUp(i, weights: pool.endpoints.map(\.weight)) {
            HostLog.notice("\(pool.name(i)) is up: switchboards \(names.joined(separator: ", ")); it takes calls")
        } else if known != 0 && (started > known + 2 || known > started + 2) {
            table.bumpGeneration(i)
            HostLog.notice("\(pool.name(i)) restarted; switchboards \(names.joined(separator: ", "))")
        }
        return info.switchboards.map(\.switchboard)
    }

    /// Once every host answered at least once: one warning per switchboard that a `switchboard`
    /// modparam names and no host declares (the lines a worker could not apply either).
    private mutating func warnAboutUndeclaredNames(_ declared: [Switchboard]) {
        guard everAnswered.allSatisfy({ $0 }) else { return }
        for target in pool.configuration.applyParams(to: SwitchboardSet(declared)).unmatched
        where warnedNames.insert(target.lowercased()).inserted {
            HostLog.warning("a 'switchboard' modparam names switchboard '\(target)', which no media host declares")
        }
    }
}
