/// The sessions alloc and update give to the media of one SDP while they walk it: which session
/// each `m=` line uses, where its SDP now points, and which sessions this call allocated (so that a
/// failure can delete them again). Media with the same address and port share one session.
struct MediaAssignment {
    /// One entry per `m=` line: its session, or nil.
    var entries: [SessionHandle?]
    /// One entry per `m=` line: where the rewritten SDP points it, or nil to leave it untouched.
    var targets: [MediaTarget?]
    /// Sessions allocated during this call, oldest first.
    private(set) var allocated: [SessionHandle] = []
    private var shared: [ScriptFunctions.ShareKey: (SessionHandle, UInt16)] = [:]
    private let gate: Gate

    /// Starts with `entries` (an update's previous sessions) for the media of `sdp`, pointing at `gate`.
    init(_ sdp: SessionDescription, entries: [SessionHandle?]? = nil, gate: Gate) {
        self.entries = entries ?? Array(repeating: nil, count: sdp.media.count)
        targets = Array(repeating: nil, count: sdp.media.count)
        self.gate = gate
    }

    /// Points media `index` at session `handle`, whose port on the gate is `port`.
    mutating func assign(_ index: Int, _ media: SessionDescription.Media, _ handle: SessionHandle, port: UInt16) {
        shared[ScriptFunctions.ShareKey(media)] = (handle, port)
        entries[index] = handle
        targets[index] = MediaTarget(address: gate.address, rtpPort: port)
    }

    /// Gives media `index` the session of an earlier media with the same address and port; false if none.
    mutating func shareEarlier(_ index: Int, _ media: SessionDescription.Media) -> Bool {
        guard let (handle, port) = shared[ScriptFunctions.ShareKey(media)] else { return false }
        assign(index, media, handle, port: port)
        return true
    }

    /// How many sessions the active media of an SDP hold once assigned as alloc and update assign
    /// them: the sessions in `entries` they keep, and one new session per address and port no
    /// earlier media has. Known before any session is allocated, so a call over the cap takes none.
    static func sessionCount(_ media: [SessionDescription.Media], entries: [SessionHandle?]) -> Int {
        var kept = Set<Int>()
        var addresses = Set<ScriptFunctions.ShareKey>()
        var new = 0
        for (i, m) in media.enumerated() where m.isActive {
            let key = ScriptFunctions.ShareKey(m)
            if i < entries.count, let handle = entries[i] {
                kept.insert(handle.id)
                addresses.insert(key)
            } else if addresses.insert(key).inserted {
                new += 1
            }
        }
        return kept.count + new
    }

    /// Gives media `index` a new session from `plane`.
    mutating func allocate(_ index: Int, _ media: SessionDescription.Media, on plane: MediaPlane,
                           switchboard: String, request: SessionRequest, side: GateSide) throws {
        let out = try plane.allocateSession(switchboard: switchboard, request: request)
        allocated.append(out.handle)
        assign(index, media, out.handle, port: out.rtpPorts[side.rawValue])
    }
}
