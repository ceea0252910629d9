import Testing
@testable import IPTRTPProxyCore

@Suite("iptrtpproxy.cfg is read as the original did, with clear errors")
struct SwitchboardConfigParserTests {
    @Test("defaults, A/B copying and reverse file order (spec §2 example)")
    func specExample() throws {
        let set = try SwitchboardConfigParser.parse("""
            # shared with iptrtpproxy_helper
            [default:switchboard]
            port-a = 40000
            [switchboard:pub]
            addr-a = 192.0.2.10
            addr-b = 198.51.100.10
            [switchboard:lan]
            addr-a = 10.0.0.1
            port-b = 41000
            some-helper-key = whatever
            """, fileName: "ipt.cfg")
        #expect(set.all.map(\.name) == ["lan", "pub"])
        let pub = set.named("PUB")!
        #expect(pub.gateA == Gate(address: IPAddress("192.0.2.10")!, basePort: 40000))
        #expect(pub.gateB == Gate(address: IPAddress("198.51.100.10")!, basePort: 40000))
        let lan = set.named("lan")!
        #expect(lan.gateB == Gate(address: IPAddress("10.0.0.1")!, basePort: 41000))
        #expect(lan.ringingTimeout == 60)
        #expect(lan.maxSessions == Switchboard.defaultMaxSessions)
    }

    @Test("relay keys: max-sess, expires-timeout, resurrection-timeout")
    func relayKeys() throws {
        let set = try SwitchboardConfigParser.parse("""
            [switchboard:x]
            addr-a = 10.0.0.1
            addr-b = 2001:db8::1
            port-a = 30000
            max-sess = 10
            expires-timeout = 30
            resurrection-timeout = 0
            """, fileName: "f")
        let x = set.named("x")!
        #expect(x.maxSessions == 10 && x.expiresTimeout == 30 && x.resurrectionTimeout == 0)
        #expect(x.gateB.address == IPAddress("2001:db8::1"))
    }

    @Test("the per-stream rate cap: max-stream-pps and max-stream-burst, inherited from [default:switchboard], unset by default")
    func streamLimits() throws {
        let set = try SwitchboardConfigParser.parse("""
            [default:switchboard]
            max-stream-pps = 5000
            [switchboard:video]
            addr-a = 10.0.0.1
            port-a = 30000
            max-stream-burst = 800
            [switchboard:voice]
            addr-a = 10.0.0.2
            port-a = 30000
            max-stream-pps = 200
            max-stream-burst = 20
            """, fileName: "f")
        #expect(set.named("video")!.maxStreamPPS == 5000 && set.named("video")!.maxStreamBurst == 800)
        #expect(set.named("voice")!.maxStreamPPS == 200 && set.named("voice")!.maxStreamBurst == 20)
        let plain = try SwitchboardConfigParser.parse("[switchboard:x]\naddr-a = 10.0.0.1\nport-a = 30000\n", fileName: "f").named("x")!
        #expect(plain.maxStreamPPS == nil && plain.maxStreamBurst == nil)
    }

    @Test("keys under another tool's section are ignored, not applied to the previous switchboard")
    func foreignSection() throws {
        let set = try SwitchboardConfigParser.parse("""
            [switchboard:x]
            addr-a = 10.0.0.1
            port-a = 30000
            [helper]
            addr-a = 10.9.9.9
            """, fileName: "f")
        #expect(set.named("x")!.gateA.address == IPAddress("10.0.0.1"))
    }

    @Test("errors name the file, the line and what was expected", arguments: [
        ("[switchboard:x]\naddr-a = 10.0.0.300\n", "f:2: 'addr-a' must be an IPv4 or IPv6 address, not '10.0.0.300'"),
        ("[switchboard:x]\naddr-a = 10.0.0.1 ; comment\n", "f:2: 'addr-a' takes exactly one value (only '#' starts a comment)"),
        ("addr-a = 10.0.0.1\n", "f:1: 'addr-a' comes before any [switchboard:NAME] or [default:switchboard] section"),
        ("[switchboard:x]\n[switchboard:X]\n", "f:2: switchboard 'X' is declared twice"),
        ("[switchboard:abcdefghijklmnopqrstu]\n", "f:1: switchboard name 'abcdefghijklmnopqrstu' must be 1-20 characters of A-Z a-z 0-9 _ -"),
        ("[switchboard:x]\nport-a = 30000\n", "f:1: switchboard 'x': no gate address (set addr-a)"),
        ("[switchboard:x]\naddr-a = 10.0.0.1\n", "f:1: switchboard 'x': no gate port (set port-a)"),
        ("[switchboard:x]\naddr-a = 10.0.0.1\nport-a = 30000\nport-b = 30010\nmax-sess = 10\n",
         "f:1: switchboard 'x': gates A and B share address 10.0.0.1, so port ranges 30000-30019 and 30010-30029 must not overlap"),
        ("[switchboard:x]\naddr-a = 10.0.0.1\nport-a = 65000\n", "f:1: switchboard 'x': port-a 65000 + 2 x 500 sessions passes port 65535"),
        ("[switchboard:x]\nport-a = 0\n", "f:2: 'port-a' must be a port 1-65535, not '0'"),
        ("[switchboard:x\n", "f:1: section header must end with ']'"),
        ("[switchboard:x]\nmax-stream-pps = 0\n", "f:2: 'max-stream-pps' must be packets, 1-100000000, not '0'"),
        ("[switchboard:x]\nmax-stream-burst = lots\n", "f:2: 'max-stream-burst' must be packets, 1-100000000, not 'lots'"),
        ("[switchboard:x]\njust words\n", "f:2: expected 'key = value' or a [section] header"),
    ])
    func errors(input: String, message: String) {
        do {
            _ = try SwitchboardConfigParser.parse(input, fileName: "f")
            Issue.record("expected an error: \(message)")
        } catch let e as ConfigError {
            #expect(e.description == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("one address and one port: gate B takes the ports after gate A's range")
    func gateBAfterA() throws {
        let x = try SwitchboardConfigParser.parse("[switchboard:x]\naddr-a = 10.0.0.1\nport-a = 30000\nmax-sess = 100\n", fileName: "f").named("x")!
        #expect(x.gateA == Gate(address: IPAddress("10.0.0.1")!, basePort: 30000))
        #expect(x.gateB == Gate(address: IPAddress("10.0.0.1")!, basePort: 30200))
    }

    @Test("a quoted name may hold a dash; comments may follow values")
    func quotedNameAndComment() throws {
        let set = try SwitchboardConfigParser.parse("[switchboard:\"my-sw\"]\naddr-a = 10.0.0.1 # gate\nport-a = 30000\n", fileName: "f")
        #expect(set.named("my-sw") != nil)
    }
}
