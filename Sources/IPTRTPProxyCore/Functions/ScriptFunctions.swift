/// The five script functions of the module, as pure logic over a `MediaPlane`: SDP in, SDP and
/// plane calls out. The host glue (Kamailio, the CLI) supplies the message body and keeps the
/// select values of the current script run.
///
/// No function throws: bad input, an unknown switchboard or a plane error gives a failed
/// `FunctionResult` with one reason, the body unchanged, and nothing left allocated.
public final class ScriptFunctions {
    /// The switchboards from the cfg file and the `switchboard` modparams.
    public let switchboards: SwitchboardSet
    /// Where sessions are allocated.
    public let plane: MediaPlane
    /// The media host this plane is, written into the `session_ids` that alloc and update publish
    /// (`pub@HOST:...`) so that later calls find it again; nil for a proxy with one relay.
    public let host: String?

    /// Creates the functions over `plane`; `host` names the plane in the session ids.
    public init(switchboards: SwitchboardSet, plane: MediaPlane, host: String? = nil) {
        self.switchboards = switchboards
        self.plane = plane
        self.host = host
    }

    /// The SDP of a message body: its place in the body and its parse.
    struct LocatedSDP {
        var range: Range<Int>
        var sdp: SessionDescription
    }

    func locateSDP(_ body: [UInt8], contentType: String?) -> Result<LocatedSDP, FunctionFailure> {
        guard let range = SDPBodyPart.locate(body: body, contentType: contentType) else {
            return .failure(FunctionFailure("the message has no application/sdp body"))
        }
        do {
            return .success(LocatedSDP(range: range, sdp: try SDPParser.parse(Array(body[range]))))
        } catch let e as SDPError {
            return .failure(FunctionFailure(e.message))
        } catch {
            return .failure(FunctionFailure("SDP: \(error)"))
        }
    }

    /// The body with the SDP part (at `range`) replaced by the rewritten SDP; the SDP's edits
    /// moved into body coordinates.
    func splice(_ body: [UInt8], _ range: Range<Int>, _ sdp: RewrittenSDP) -> BodyRewrite {
        BodyRewrite(body: Array(body[..<range.lowerBound]) + sdp.bytes + Array(body[range.upperBound...]),
                    edits: sdp.edits.map { $0.shifted(by: range.lowerBound) })
    }

    /// What side `side` of `switchboard` asks for the streams of `media` (RTP at its address and
    /// port, RTCP where its `a=rtcp` says or one port up: `Media.rtcpEndpoint`); `signal` is the
    /// address the message came from (the relay latches only from it or the SDP's). `ice` are the
    /// relay's credentials towards the SDP's reader (`ice=force`), on the rewritten gate's side.
    func sourceRequest(
        _ sw: Switchboard, _ flags: ScriptFlags, media: SessionDescription.Media?, signal: IPAddress?, ice: ICECredentials? = nil,
        call: CallIdentity? = nil
    ) -> SessionRequest {
        let side = flags.sdpSide
        let defaults = sw.learning(side)
        let timeout = flags.ringing ? sw.ringingTimeout : defaults.learningTimeout
        var request = SessionRequest()
        request[side] = SourceRequest(
            alwaysLearn: defaults.alwaysLearn,
            streams: [
                StreamRequest(address: media?.endpoint, learningTimeout: timeout),
                StreamRequest(address: media?.rtcpEndpoint, learningTimeout: timeout),
            ],
            signal: signal)
        request[flags.rewriteSide].ice = ice
        request.call = call
        return request
    }

    /// Fresh relay credentials for the SDP's reader when the switchboard forces ICE, else nil.
    func relayICECredentials(_ sw: Switchboard) -> ICECredentials? {
        sw.ice == .force ? ICECredentials.random() : nil
    }

    /// Why a call that would hold `sessions` sessions on `sw` is refused, or nil when it is within
    /// the switchboard's per-call cap.
    func callCapRefusal(_ sw: Switchboard, _ sessions: Int) -> String? {
        guard sessions > sw.maxCallSessions else { return nil }
        return "the SDP needs \(sessions) sessions on '\(sw.name)', more than the \(sw.maxCallSessions) one call may hold (max-call-sessions); nothing allocated"
    }

    /// Key under which media share a session: same numeric address (nil for a host name) and port.
    /// Media that await trickled candidates all say 0.0.0.0 port 9, which names no transport:
    /// each keeps its own session (its line number is part of the key).
    struct ShareKey: Hashable {
        var address: IPAddress?
        var port: UInt16
        var trickleLine = 0
        init(_ m: SessionDescription.Media) {
            address = m.connection?.address
            port = m.port
            if m.awaitsCandidates { trickleLine = m.line }
        }
    }

    /// Deletes the sessions `handles` in ranges of consecutive ids, each with its first id's stamp.
    /// Returns one warning per failed range (the original only logged these). Without `waiting`
    /// the plane may send the deletes and return (`deleteSessionsWithoutWaiting`): their refusals
    /// are then logged by the plane when they arrive, and only an unreachable plane is a warning here.
    func deleteHandles(_ switchboard: String, _ handles: [SessionHandle], waiting: Bool = true) -> [String] {
        var byID: [Int: SessionHandle] = [:]
        for h in handles where byID[h.id] == nil { byID[h.id] = h }
        let ids = byID.keys.sorted()
        var warnings: [String] = []
        var i = 0
        while i < ids.count {
            var j = i
            while j + 1 < ids.count && ids[j + 1] == ids[j] + 1 { j += 1 }
            do {
                if waiting {
                    try plane.deleteSessions(switchboard: switchboard, ids: ids[i]...ids[j], created: byID[ids[i]]!.created)
                } else {
                    try plane.deleteSessionsWithoutWaiting(switchboard: switchboard, ids: ids[i]...ids[j], created: byID[ids[i]]!.created)
                }
            } catch {
                warnings.append("delete \(switchboard):\(ids[i])-\(ids[j]): \(error)")
            }
            i = j + 1
        }
        return warnings
    }
}

/// Why a function returned false.
struct FunctionFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
