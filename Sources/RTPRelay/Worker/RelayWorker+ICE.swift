import IPTRTPProxyCore
import IPTRTPProxyPOSIX

extension RelayWorker {
    /// A datagram that looks like STUN on a leg whose side has an ICE-lite agent: a check with
    /// the side's password is answered from the same socket (and may latch its source); anything
    /// else is dropped as from an unknown source. Never forwarded: checks are between the phone
    /// and the relay. Off the common path: only legs of `ice=force` sessions get here.
    func answerCheck(
        _ packet: UnsafeRawBufferPointer, from source: PeerAddress, leg index: Int,
        rx: UnsafeMutablePointer<StreamLeg>, in sh: borrowing SessionShard
    ) {
        guard let agent = sh.iceAgents[index & ~1], let endpoint = source.endpoint,
              case .check(let response, let nominated) = agent.answer(Array(packet), from: endpoint)
        else {
            rx.pointee.dropUnknownSource &+= 1
            return
        }
        rx.pointee.latchChecked(source, nominated: nominated)
        if Socket.send(rx.pointee.fd, response, to: SocketAddress(endpoint)) < 0 {
            rx.pointee.dropSendFailed &+= 1
        }
    }
}
