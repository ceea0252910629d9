/// The reply to `info`: what relay this is and the switchboards it serves.
public struct RelayInfo: Hashable, Sendable {
    /// The control protocol version (`iptrtp/2`).
    public var protocolVersion: String
    /// The relay's software version.
    public var relayVersion: String
    /// Seconds since the relay started.
    public var uptime: UInt64
    /// Forwarding threads.
    public var workers: Int
    /// The kernel offload in use (`none` when user space forwards everything).
    public var offload: String
    /// The journal file, if sessions are journaled.
    public var journal: String?
    /// The switchboards and how many sessions each holds.
    public var switchboards: [SwitchboardInfo]

    /// One switchboard as configured, and its live sessions.
    public struct SwitchboardInfo: Hashable, Sendable {
        /// The configuration (cfg file and `switchboard` parameters).
        public var switchboard: Switchboard
        /// Live sessions.
        public var sessionsInUse: Int
        /// Ended sessions whose sockets the relay keeps bound for the next session on their ports
        /// (`iptrtpproxyd --keep-sockets`); 0 from a relay that does not say.
        public var sessionsKept: Int

        /// Creates the entry.
        public init(switchboard: Switchboard, sessionsInUse: Int, sessionsKept: Int = 0) {
            self.switchboard = switchboard
            self.sessionsInUse = sessionsInUse
            self.sessionsKept = sessionsKept
        }
    }

    /// Creates the info.
    public init(
        protocolVersion: String = ControlProtocol.version, relayVersion: String, uptime: UInt64, workers: Int,
        offload: String, journal: String?, switchboards: [SwitchboardInfo]
    ) {
        self.protocolVersion = protocolVersion
        self.relayVersion = relayVersion
        self.uptime = uptime
        self.workers = workers
        self.offload = offload
        self.journal = journal
        self.switchboards = switchboards
    }

    /// The info as JSON.
    public var json: String {
        var w = JSONWriter()
        w.object { j in
            j.member("protocol", protocolVersion)
            j.member("version", relayVersion)
            j.member("uptime", uptime)
            j.member("workers", workers)
            j.member("offload", offload)
            j.member("journal", journal)
            j.key("switchboards")
            j.array { a in
                for info in switchboards {
                    let sw = info.switchboard
                    a.object { o in
                        o.member("name", sw.name)
                        o.member("gate-a", Endpoint(address: sw.gateA.address, port: sw.gateA.basePort).description)
                        o.member("gate-b", Endpoint(address: sw.gateB.address, port: sw.gateB.basePort).description)
                        o.member("max-sessions", sw.maxSessions)
                        o.member("in-use", info.sessionsInUse)
                        o.member("kept", info.sessionsKept)
                        o.member("expires-timeout", sw.expiresTimeout)
                        o.member("resurrection-timeout", sw.resurrectionTimeout)
                        o.member("ringing-timeout", sw.ringingTimeout)
                        o.member("ice", sw.ice.rawValue)
                        for side in GateSide.allCases {
                            o.member("learning-timeout-" + side.letter, sw.learning(side).learningTimeout)
                            o.member("always-learn-" + side.letter, sw.learning(side).alwaysLearn)
                        }
                    }
                }
            }
        }
        return w.text
    }

    /// Reads `json`.
    public init(json text: String) throws {
        let r = JSONReader(try JSONParser.parse(text), "info")
        let switchboards = try r.array("switchboards").map { v -> SwitchboardInfo in
            let s = JSONReader(v, "switchboard")
            let a = try s.endpoint("gate-a"), b = try s.endpoint("gate-b")
            var learning: [LearningDefaults] = []
            for side in GateSide.allCases {
                learning.append(LearningDefaults(
                    learningTimeout: try s.optionalUInt32("learning-timeout-" + side.letter),
                    alwaysLearn: try s.bool("always-learn-" + side.letter)))
            }
            var sw = Switchboard(
                name: try s.string("name"), gateA: Gate(address: a.address, basePort: a.port),
                gateB: Gate(address: b.address, basePort: b.port), maxSessions: try s.int("max-sessions"),
                expiresTimeout: try s.uint32("expires-timeout"), resurrectionTimeout: try s.uint32("resurrection-timeout"),
                ringingTimeout: try s.uint32("ringing-timeout"), learning: learning)
            // A relay of an older version says nothing about ICE: the default.
            if s.value["ice"] != nil, let ice = try s.optionalString("ice") {
                guard let policy = ICEPolicy(rawValue: ice) else { throw ControlProtocolError(id: nil, "info: switchboard ice '\(ice.prefix(20))' is not remove, keep or force") }
                sw.ice = policy
            }
            // A relay is not trusted to be sane: what the module computes from a switchboard (ports
            // from session ids) must stay in range.
            if let problem = sw.layoutProblem { throw ControlProtocolError(id: nil, "info: switchboard '\(sw.name.prefix(40))': \(problem)") }
            // A relay of an older version keeps no sockets and says nothing of them.
            let kept = s.value["kept"] == nil ? 0 : try s.int("kept")
            guard kept >= 0 else { throw ControlProtocolError(id: nil, "info: switchboard '\(sw.name.prefix(40))': kept \(kept) is negative") }
            return SwitchboardInfo(switchboard: sw, sessionsInUse: try s.int("in-use"), sessionsKept: kept)
        }
        var names = Set<String>()
        for info in switchboards where !names.insert(info.switchboard.name.asciiLowercased).inserted {
            throw ControlProtocolError(id: nil, "info: switchboard '\(info.switchboard.name)' is declared twice")
        }
        self.init(
            protocolVersion: try r.string("protocol"), relayVersion: try r.string("version"), uptime: try r.uint64("uptime"),
            workers: try r.int("workers"), offload: try r.string("offload"), journal: try r.optionalString("journal"),
            switchboards: switchboards)
    }
}
