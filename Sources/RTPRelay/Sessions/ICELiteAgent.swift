import IPTRTPProxyAuth
import IPTRTPProxyCore

/// The relay as an ICE-lite agent (RFC 8445 §2.5) on one gate's side of a session whose
/// switchboard has `ice=force`: it holds the credentials the SDP gave the phone on that side and
/// answers the phone's connectivity checks on the side's RTP and RTCP ports. It never sends a
/// check of its own. Owned by the session's shard, used under its lock.
struct ICELiteAgent {
    /// The username fragment the phone addresses its checks to.
    let ufrag: String
    /// Verifies checks and signs responses with the side's password.
    let integrity: ICECheckIntegrity

    init(_ credentials: ICECredentials) {
        ufrag = credentials.ufrag
        integrity = ICECheckIntegrity(password: credentials.password)
    }

    /// What a datagram that looked like STUN turned out to be.
    enum Verdict {
        /// A check for this agent with the right password: answer it (`response`), and latch the
        /// source when the phone nominated the pair (USE-CANDIDATE) or nothing is latched yet.
        case check(response: [UInt8], nominated: Bool)
        /// Anything else (another method, another ufrag, a wrong password, a broken message):
        /// dropped without an answer, so a stranger learns nothing and gets nothing reflected.
        case refused
    }

    /// Reads `bytes` from `source` as a connectivity check.
    func answer(_ bytes: [UInt8], from source: Endpoint) -> Verdict {
        guard let request = STUNMessage.parseBindingRequest(bytes), request.isAddressed(to: ufrag),
              integrity.verifies(request)
        else { return .refused }
        return .check(response: integrity.response(to: request, source: source), nominated: request.useCandidate)
    }
}
