extension ScriptFunctions {
    /// `iptrtpproxy_find(gate_a, gate_b)`: finds the switchboard whose gate addresses are these two
    /// (ports are ignored), walking the switchboards so that the last declared wins. Sets the
    /// `switchboard` and `direction` selects (1: A→B as given, 0: swapped); clears them on no match.
    public func find(gateA: String, gateB: String, selects: inout SelectValues) -> FunctionResult {
        let a = Self.addressIgnoringPort(gateA)
        let b = Self.addressIgnoringPort(gateB)
        for sw in switchboards.all {
            if a == sw.gateA.address && b == sw.gateB.address {
                selects.switchboard = sw.name
                selects.direction = 1
                return .success()
            }
            if a == sw.gateB.address && b == sw.gateA.address {
                selects.switchboard = sw.name
                selects.direction = 0
                return .success()
            }
        }
        selects.switchboard = nil
        selects.direction = nil
        return .failure("find: no switchboard joins \(gateA) and \(gateB)")
    }

    /// `192.0.2.1`, `192.0.2.1:5060`, `2001:db8::1` or `[2001:db8::1]:5060` → the address.
    static func addressIgnoringPort(_ text: String) -> IPAddress? {
        let t = text.trimmingBlanks
        if let a = IPAddress(t) { return a }
        if t.hasPrefix("["), let close = t.firstIndex(of: "]") {
            return IPAddress(String(t[t.index(after: t.startIndex)..<close]))
        }
        if let colon = t.lastIndex(of: ":"), !t[..<colon].contains(":") {
            return IPAddress(String(t[..<colon]))
        }
        return nil
    }
}
