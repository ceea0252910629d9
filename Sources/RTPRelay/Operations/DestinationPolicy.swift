import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// Where the relay may send: to phones, never to itself or to many hosts at once. Every address
/// in a request is untrusted (an SDP answer is written by the other party), so an address that
/// would make the relay send to its own host (a gate, a local interface, loopback), to a
/// broadcast or to a multicast group is refused before it becomes a destination. Without this a
/// party could answer `c=IN IP4 0.0.0.0` (Linux delivers that to the host itself) or the relay's
/// own address with `m=audio P`, P another call's relay port, and inject media into that call.
///
/// The unspecified address (0.0.0.0, ::) is not refused: it is hold (RFC 3264 §8.4), and the leg
/// it names sends nothing (`StreamLeg.apply`).
struct DestinationPolicy: Sendable {
    /// The host's interface addresses and subnet broadcasts, read when the engine was created.
    let local: LocalAddresses
    /// Every gate address of every switchboard.
    let gates: Set<IPAddress>

    init(local: LocalAddresses, switchboards: SwitchboardSet) {
        self.local = local
        gates = Set(switchboards.all.flatMap { [$0.gateA.address, $0.gateB.address] })
    }

    /// Why the relay must not send to `address` from `gate`, or nil when it may.
    /// Loopback is allowed only from a gate on loopback (a relay and its phones on one host, as
    /// in tests and demos); the relay's own ports are checked separately.
    func refusal(of address: IPAddress, from gate: Gate) -> String? {
        if address.isUnspecified { return nil }
        let plain = address.mappedV4 ?? address
        if plain.isMulticast { return "is a multicast address" }
        if plain.isLimitedBroadcast || local.broadcasts.contains(plain) { return "is a broadcast address" }
        if plain.isLoopback { return gate.address.isLoopback ? nil : "is a loopback address of the relay's host" }
        if gates.contains(plain) || local.addresses.contains(plain) || local.addresses.contains(address) {
            return "is an address of the relay's own host"
        }
        return nil
    }
}
