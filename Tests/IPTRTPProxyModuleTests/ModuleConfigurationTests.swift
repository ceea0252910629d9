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
        let set = try c.finish()
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

    @Test("a switchboard line naming no known switchboard is refused and changes nothing")
    func unknownSwitchboard() throws {
        var c = ModuleConfiguration()
        try c.setConfig(try cfgFile(twoSwitchboards))
        #expect(throws: ModuleConfigError.self) { try c.addSwitchboardParam("name=nosuch;ringing-timeout=5") }
        #expect(try c.finish().named("pub")?.ringingTimeout == Switchboard.defaultRingingTimeout)
    }

    @Test("a missing or broken cfg file stops the module with the file's name")
    func badFiles() throws {
        var c = ModuleConfiguration()
        #expect {
            try c.setConfig("/nonexistent/iptrtpproxy.cfg")
        } throws: { "\($0)".contains("/nonexistent/iptrtpproxy.cfg") }
        var d = ModuleConfiguration()
        let broken = try cfgFile("[switchboard:x]\naddr-a = not-an-address\n")
        #expect { try d.setConfig(broken) } throws: { "\($0)".contains("addr-a") }
        var e = ModuleConfiguration()
        try e.setConfig(try cfgFile("# nothing declared\n"))
        #expect(throws: ModuleConfigError.self) { try e.finish() }
    }

    @Test("relay: once; relay_timeout within 10-60000 ms; relay_journal for the embedded relay only")
    func relayParameters() throws {
        var c = ModuleConfiguration()
        try c.setConfig(try cfgFile(twoSwitchboards))
        #expect(c.relay == .embedded)
        #expect(c.relayTimeout == ModuleConfiguration.defaultRelayTimeout)
        try c.setRelay("unix:/run/iptrtpproxy/control.sock")
        #expect(throws: ModuleConfigError.self) { try c.setRelay("embedded") }
        try c.setRelayTimeout(250)
        #expect(c.relayTimeout == 250)
        #expect(throws: ModuleConfigError.self) { try c.setRelayTimeout(0) }
        #expect(throws: ModuleConfigError.self) { try c.setRelayTimeout(120_000) }
        #expect(throws: ModuleConfigError.self) { try c.setRelayJournal("relative/journal") }
        try c.setRelayJournal("/var/lib/iptrtpproxy/journal")
        #expect(throws: ModuleConfigError.self) { try c.finish() }
    }
}
