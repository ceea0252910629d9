/// The reply to `stats`: relay-wide counters since the relay started.
public struct RelayStatistics: Hashable, Sendable {
    /// Seconds since start.
    public var uptime: UInt64
    /// Live sessions now.
    public var sessionsActive: Int
    /// Sessions allocated since start.
    public var sessionsAllocated: UInt64
    /// Sessions deleted by a request.
    public var sessionsDeleted: UInt64
    /// Sessions freed because no packet came for their expires-timeout.
    public var sessionsExpired: UInt64
    /// Allocations refused (ports exhausted, bind failures).
    public var allocationFailures: UInt64
    /// Control requests served, and how many were answered with an error.
    public var controlRequests: UInt64
    /// Control requests answered with an error.
    public var controlErrors: UInt64
    /// Packets of every session, including those of sessions since freed.
    public var counters: StreamCounters
    /// Per switchboard: live sessions and packet counters.
    public var switchboards: [SwitchboardStatistics]
    /// The session store (journal, Redis) and whether it takes writes; nil without one.
    public var store: SessionStoreHealth?
    /// The kernel offload's installs and refusals; nil when the relay forwards in user space only.
    public var offload: OffloadStatistics?

    /// Counters of one switchboard.
    public struct SwitchboardStatistics: Hashable, Sendable {
        /// The name.
        public var name: String
        /// Live sessions.
        public var sessionsActive: Int
        /// Packets of its sessions, including freed ones.
        public var counters: StreamCounters

        /// Creates the entry.
        public init(name: String, sessionsActive: Int, counters: StreamCounters) {
            self.name = name
            self.sessionsActive = sessionsActive
            self.counters = counters
        }
    }

    /// Creates the statistics.
    public init(
        uptime: UInt64, sessionsActive: Int, sessionsAllocated: UInt64, sessionsDeleted: UInt64, sessionsExpired: UInt64,
        allocationFailures: UInt64, controlRequests: UInt64, controlErrors: UInt64, counters: StreamCounters,
        switchboards: [SwitchboardStatistics], store: SessionStoreHealth? = nil, offload: OffloadStatistics? = nil
    ) {
        self.uptime = uptime
        self.sessionsActive = sessionsActive
        self.sessionsAllocated = sessionsAllocated
        self.sessionsDeleted = sessionsDeleted
        self.sessionsExpired = sessionsExpired
        self.allocationFailures = allocationFailures
        self.controlRequests = controlRequests
        self.controlErrors = controlErrors
        self.counters = counters
        self.switchboards = switchboards
        self.store = store
        self.offload = offload
    }

    /// The statistics as JSON.
    public var json: String {
        var w = JSONWriter()
        w.object { j in
            j.member("uptime", uptime)
            j.key("sessions")
            j.object { s in
                s.member("active", sessionsActive)
                s.member("allocated", sessionsAllocated)
                s.member("deleted", sessionsDeleted)
                s.member("expired", sessionsExpired)
                s.member("alloc-failures", allocationFailures)
            }
            j.key("control")
            j.object { c in
                c.member("requests", controlRequests)
                c.member("errors", controlErrors)
            }
            j.key("counters")
            counters.write(to: &j)
            if let store {
                j.key("store")
                j.object { o in
                    o.member("location", store.location)
                    o.member("up", store.up)
                    o.member("detail", store.detail)
                }
            }
            if let offload {
                j.key("offload")
                offload.write(to: &j)
            }
            j.key("switchboards")
            j.array { a in
                for sw in switchboards {
                    a.object { o in
                        o.member("name", sw.name)
                        o.member("active", sw.sessionsActive)
                        o.key("counters")
                        sw.counters.write(to: &o)
                    }
                }
            }
        }
        return w.text
    }

    /// Reads `json`.
    public init(json text: String) throws {
        let r = JSONReader(try JSONParser.parse(text), "stats")
        let s = JSONReader(try r.member("sessions"), "sessions")
        let c = JSONReader(try r.member("control"), "control")
        let switchboards = try r.array("switchboards").map { v -> SwitchboardStatistics in
            let o = JSONReader(v, "switchboard")
            return SwitchboardStatistics(
                name: try o.string("name"), sessionsActive: try o.int("active"),
                counters: try StreamCounters(json: try o.member("counters")))
        }
        var store: SessionStoreHealth?
        if let v = r.value["store"] {
            let o = JSONReader(v, "store")
            store = SessionStoreHealth(location: try o.string("location"), up: try o.bool("up"), detail: try o.optionalString("detail"))
        }
        self.init(
            uptime: try r.uint64("uptime"), sessionsActive: try s.int("active"), sessionsAllocated: try s.uint64("allocated"),
            sessionsDeleted: try s.uint64("deleted"), sessionsExpired: try s.uint64("expired"),
            allocationFailures: try s.uint64("alloc-failures"), controlRequests: try c.uint64("requests"),
            controlErrors: try c.uint64("errors"), counters: try StreamCounters(json: try r.member("counters")),
            switchboards: switchboards, store: store,
            offload: try r.value["offload"].map { try OffloadStatistics(json: $0) })
    }
}
