extension Switchboard {
    /// Why the client addresses of `source`, on gate `side`'s side, cannot be relayed: a gate's
    /// sockets send to and receive from its own address family only, so an IPv6 client of an
    /// IPv4 gate (or the other way round) is refused. Nil when every address fits.
    ///
    /// The rule every media plane applies, so that the CLI's dry run refuses what the relay
    /// refuses, with the same message.
    public func addressFamilyRefusal(of source: SourceRequest, on side: GateSide) -> MediaPlaneError? {
        let gateIsV6 = gate(side).address.isV6
        for stream in source.streams {
            guard let client = stream.address, client.address.isV6 != gateIsV6 else { continue }
            return MediaPlaneError(
                "switchboard '\(name)': side \(side.letter) client \(client) is \(client.address.isV6 ? "IPv6" : "IPv4") but gate \(side.letter.uppercased()) is \(gateIsV6 ? "IPv6" : "IPv4")")
        }
        return nil
    }

    /// The first refusal of `addressFamilyRefusal(of:on:)` over both sides of `request`.
    public func addressFamilyRefusal(of request: SessionRequest) -> MediaPlaneError? {
        for side in GateSide.allCases {
            if let refusal = addressFamilyRefusal(of: request[side], on: side) { return refusal }
        }
        return nil
    }
}
