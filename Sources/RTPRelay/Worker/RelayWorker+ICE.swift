import IPTRTPProxyCore
import IPTRTPProxyPOSIX

extension RelayWorker {
    /// A datagram that looks like STUN on a leg whose side has an ICE-lite agent: a check with
    /// the side's password is answered from the same socket (and may latch its source); anything
    /// else is dropped as from an unknown source. Never forwarded: checks are between the phone
    /// and the relay. Off the common path: only legs of `ice=force` sessions get here.
    /// In shared-socket mode the leg has no socket: the answer leaves from its gate endpoint
    /// `gate` through the thread's raw socket.
    func answerCheck(
        _ packet: UnsafeRawBufferPointer, from source: PeerAddress, leg index: Int,
        rx: UnsafeMutablePointer<StreamLeg>, gate: PeerAddress, in sh: borrowing SessionShard
    ) {
        guard let agent = sh.iceAgents[index & ~1], let endpoint = source.endpoint,
              case .check(let response, let nominated) = agent.answer(Array(packet), from: endpoint)
        else {
            rx.pointee.dropUnknownSource &+= 1
            return
        }
        rx.pointee.latchChecked(source, nominated: nominated)
        let sent: Bool
        if rx.pointee.fd == StreamLeg.sharedSocket {
            sent = sh.shared?.send(response, from: gate, to: source) ?? false
        } else {
            sent = Socket.send(rx.pointee.fd, response, to: SocketAddress(endpoint)) >= 0
        }
        if !sent { rx.pointee.dropSendFailed &+= 1 }
    }
}
