import Foundation
import IPTRTPProxyCore
import Testing
@testable import IPTRTPProxyModule

/// A switchboards file in a fresh temporary folder.
private func cfgFile(_ text: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-module-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("iptrtpproxy.cfg").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

private let twoSwitchboards = """
    [switchboard:pub]
    addr-a = 192.0.2.10
    addr-b = 198.51.100.10
    port-a = 40000
    [switchboard:lan]
    addr-a = 10.0.0.1
    port-a = 41000
    port-b = 43000
    """

@Suite("modparams config, switchboard, relay_*")
struct ModuleConfigurationTests {
    @Test("config reads the file; switchboard lines then apply to its switchboards")
    func configThenSwitchboard() throws {
        var c = ModuleConfiguration()
        try c.setConfig(try cfgFile(twoSwitchboards))
        try c.addSwitchboardParam("name=*;learning-timeout-a=10;ringing-timeout=90")
        try c.addSwitchboardParam("name=pub;always-learn-b=1")
        let set = try #require(try c.finish())
        #expect(set.all.map(\.name) == ["lan", "pub"])
        #expect(set.named("pub")?.ringingTimeout == 90)
        #expect(set.named("pub")?.learning(.a).learningTimeout == 10)
        #expect(set.named("pub")?.learning(.a).alwaysLearn == true)   // copied from -b: set for one side only
    }

    @Test("config may be given once, and not after a switchboard line")
    func configOnceAndFirst() throws {
        let path = try cfgFile(twoSwitchboards)
        var c = ModuleConfiguration()
        try c.setConfig(path)
        #expect(throws: ModuleConfigError.self) { try c.setConfig(path) }

        var d = ModuleConfiguration()
        try d.setConfig(path)
        try d.addSwitchboardParam("name=lan;ringing-timeout=30")
        #expect(throws: ModuleConfigError.self) { try d.setConfig(path) }
    }

    @Test("a switchboard line is checked when given; one naming no switchboard of the cfg file stops module init")
    func unknownSwitchboard() throws {
        var c = ModuleConfiguration()
        try c.setConfig(try cfgFile(twoSwitchboards))
        #expect(throws: ModuleConfigError.self) { try c.addSwitchboardParam("name=pub;ringing-timeout=five") }
        #expect(throws: ModuleConfigError.self) { try c.addSwitchboardParam("ringing-timeout=5") }
        try c.addSwitchboardParam("name=nosuch;ringing-timeout=5")
        #expect { try c.finish() } throws: { "\($0)".contains("nosuch") }
    }

    @Test("a missing or broken cfg file stops module init with the file's name")
    func badFiles() throws {
        var c = ModuleConfiguration()
        try c.setConfig("/nonexistent/iptrtpproxy.cfg")
        #expect { try c.finish() } throws: { "\($0)".contains("/nonexistent/iptrtpproxy.cfg") }
        var d = ModuleConfiguration()
        try d.setConfig(try cfgFile("[switchboard:x]\naddr-a = not-an-address\n"))
        #expect { try d.finish() } throws: { "\($0)".contains("addr-a") }
        var e = ModuleConfiguration()
        try e.setConfig(try cfgFile("# nothing declared\n"))
        #expect(throws: ModuleConfigError.self) { try e.finish() }
    }

    @Test("with external relays no cfg file is read: the switchboards come from the relays")
    func externalRelaysNeedNoFile() throws {
        var c = ModuleConfiguration()
        try c.setConfig("/nonexistent/iptrtpproxy.cfg")
        try c.addSwitchboardParam("name=*;ringing-timeout=90")
        try c.addSwitchboardParam("name=pub;learning-timeout-a=7")
        try c.setRelay("unix:/run/a.sock")
        try c.setRelay("unix:/run/b.sock;weight=3;id=m2")
        #expect(try c.finish() == nil)
        #expect(c.relays.map(\.weight) == [1, 3])
        #expect(c.relays[1].id == "m2")

        // The lines apply to what a relay declares; a name it does not declare is reported.
        let declared = SwitchboardSet([Switchboard(
            name: "lan", gateA: Gate(address: .v4(0x0a000001), basePort: 41000), gateB: Gate(address: .v4(0x0a000002), basePort: 41000))])
        let (applied, unmatched) = c.applyParams(to: declared)
        #expect(applied.named("lan")?.ringingTimeout == 90)
        #expect(unmatched == ["pub"])
    }

    @Test("relay lines: media hosts repeat; embedded and xt stand alone; no host twice; TCP and TLS hosts need a secret")
    func relayLines() throws {
        var c = ModuleConfiguration()
        try c.setRelay("tcp:127.0.0.1:7722;weight=2")
        #expect(throws: ModuleConfigError.self) { try c.setRelay("embedded") }
        #expect(throws: ModuleConfigError.self) { try c.setRelay("xt") }
        #expect(throws: ModuleConfigError.self) { try c.setRelay("tcp:127.0.0.1:7722") }
        try c.setRelay("tcp:127.0.0.2:7722;id=b")
        #expect(throws: ModuleConfigError.self) { try c.setRelay("tcp:127.0.0.3:7722;id=b") }
        #expect { try c.finish() } throws: { "\($0)".contains("relay_secret") }
        try c.setRelaySecret("0123456789abcdef0123")
        #expect(try c.finish() == nil)

        var e = ModuleConfiguration()
        try e.setRelay("embedded")
        #expect(throws: ModuleConfigError.self) { try e.setRelay("unix:/run/a.sock") }

        // One host may carry its own secret.
        var s = ModuleConfiguration()
        try s.setRelay("tcp:127.0.0.1:7722;secret=0123456789abcdef")
        #expect(try s.finish() == nil)
        #expect(s.secret(for: s.relays[0]) == "0123456789abcdef")
    }

    @Test("relay: once; relay_timeout within 10-60000 ms; relay_keep_sockets 0 or more; relay_journal for the embedded relay only")
    func relayParameters() throws {
        var c = ModuleConfiguration()
        try c.setConfig(try cfgFile(twoSwitchboards))
        #expect(c.plane == .embedded)
        #expect(c.relayTimeout == ModuleConfiguration.defaultRelayTimeout)
        try c.setRelay("unix:/run/iptrtpproxy/control.sock")
        #expect(throws: ModuleConfigError.self) { try c.setRelay("embedded") }
        #expect(throws: ModuleConfigError.self) { try c.setProbeInterval(50) }
        try c.setProbeInterval(500)
        #expect(c.probeInterval == 500)
        try c.setRelayTimeout(250)
        #expect(c.relayTimeout == 250)
        #expect(c.relayKeptSessions == nil, "relay_keep_sockets unset: the relay's default")
        #expect(throws: ModuleConfigError.self) { try c.setKeptSessions(-1) }
        try c.setKeptSessions(0)
        #expect(c.relayKeptSessions == 0)
        #expect(throws: ModuleConfigError.self) { try c.setRelayTimeout(0) }
        #expect(throws: ModuleConfigError.self) { try c.setRelayTimeout(120_000) }
        #expect(throws: ModuleConfigError.self) { try c.setRelayJournal("relative/journal") }
        try c.setRelayJournal("/var/lib/iptrtpproxy/journal")
        #expect(throws: ModuleConfigError.self) { try c.finish() }
    }

    @Test("relay_journal: the runtime folder's iptrtpproxy.journal by default, a path moves it, empty turns it off")
    func journalDefault() throws {
        var c = ModuleConfiguration()
        #expect(c.relayJournal == .runtimeFolder)
        #expect(EmbeddedRelay.journalPath(c.relayJournal, runtimeDirectory: "/run/kamailio/") == "/run/kamailio/iptrtpproxy.journal")
        try c.setRelayJournal(" /var/lib/ipt/journal ")
        #expect(EmbeddedRelay.journalPath(c.relayJournal, runtimeDirectory: "/run/kamailio") == "/var/lib/ipt/journal")
        try c.setRelayJournal("")
        #expect(c.relayJournal == .off)
        #expect(EmbeddedRelay.journalPath(c.relayJournal, runtimeDirectory: "/run/kamailio") == nil)
    }

    @Test("relay_journal left at its default or turned off is fine with external relays")
    func journalDefaultWithExternalRelays() throws {
        var c = ModuleConfiguration()
        try c.setRelay("unix:/run/iptrtpproxy/control.sock")
        #expect(try c.finish() == nil)
        try c.setRelayJournal("")
        #expect(try c.finish() == nil)
    }

    @Test("relay_metrics: ADDRESS:PORT or [IPv6]:PORT, empty for none; anything else names the modparam")
    func relayMetrics() throws {
        var c = ModuleConfiguration()
        #expect(c.relayMetrics == nil)
        try c.setRelayMetrics("127.0.0.1:9108")
        #expect(c.relayMetrics?.description == "127.0.0.1:9108")
        try c.setRelayMetrics("[::1]:9108")
        #expect(c.relayMetrics?.port == 9108)
        for bad in ["localhost:9108", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:9108", "[127.0.0.1]:9108", "127.0.0.1:91o8"] {
            let error = #expect(throws: ModuleConfigError.self) { try c.setRelayMetrics(bad) }
            #expect(error?.description.contains("modparam 'relay_metrics'") == true, "\(bad)")
            #expect(error?.description.contains(bad) == true, "\(bad)")
        }
        try c.setRelayMetrics("")
        #expect(c.relayMetrics == nil)
    }

    @Test("relay_metrics is refused with external relays: each iptrtpproxyd serves its own")
    func relayMetricsExternal() throws {
        var c = ModuleConfiguration()
        try c.setRelay("unix:/run/iptrtpproxy/control.sock")
        try c.setRelayMetrics("127.0.0.1:9108")
        let error = #expect(throws: ModuleConfigError.self) { try c.finish() }
        #expect(error?.description.contains("relay_metrics") == true)
    }
}
