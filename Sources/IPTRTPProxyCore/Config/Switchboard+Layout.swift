extension Switchboard {
    /// Why this switchboard cannot be served, or nil when it can: a name outside the grammar, no
    /// sessions, a gate address that is unspecified, a port range past 65535, or two gates on one
    /// address whose ranges overlap. The cfg parser checks what it read with it, and the module
    /// checks every switchboard a relay declares in its `info` (a relay is not trusted to be sane).
    public var layoutProblem: String? {
        guard SwitchboardConfigParser.isValidName(name) else {
            return "switchboard name '\(name.prefix(40))' must be 1-\(SwitchboardConfigParser.maxNameLength) characters of A-Z a-z 0-9 _ -"
        }
        guard maxSessions >= 1 && maxSessions <= 32767 else { return "'max-sess' must be 1-32767, not \(maxSessions)" }
        for side in GateSide.allCases {
            let g = gate(side)
            if g.address.isUnspecified { return "gate \(side.letter.uppercased()) has the unspecified address \(g.address)" }
            if g.basePort == 0 { return "port-\(side.letter) must be a port 1-65535, not 0" }
            if Int(g.basePort) + 2 * maxSessions > 65536 {
                return "port-\(side.letter) \(g.basePort) + 2 x \(maxSessions) sessions passes port 65535"
            }
        }
        if gateA.address == gateB.address {
            let a = Int(gateA.basePort)..<(Int(gateA.basePort) + 2 * maxSessions)
            let b = Int(gateB.basePort)..<(Int(gateB.basePort) + 2 * maxSessions)
            if a.overlaps(b) {
                return "gates A and B share address \(gateA.address), so port ranges \(a.lowerBound)-\(a.upperBound - 1) and \(b.lowerBound)-\(b.upperBound - 1) must not overlap"
            }
        }
        guard expiresTimeout > 0 else { return "'expires-timeout' must be at least 1 second" }
        guard learning.count == 2 else { return "learning defaults for two gates expected" }
        return nil
    }
}
