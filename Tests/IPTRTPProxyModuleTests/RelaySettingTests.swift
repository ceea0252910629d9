import IPTRTPProxyClient
import IPTRTPProxyCore
import Testing
@testable import IPTRTPProxyModule

@Suite("modparam relay")
struct RelaySettingTests {
    @Test("embedded is the word 'embedded', in any case, with blanks around")
    func embedded() throws {
        #expect(try RelaySetting(parsing: "embedded") == .embedded)
        #expect(try RelaySetting(parsing: "  Embedded ") == .embedded)
    }

    @Test("unix:PATH and tcp:ADDRESS:PORT name an external iptrtpproxyd")
    func external() throws {
        #expect(try RelaySetting(parsing: "unix:/run/iptrtpproxy/control.sock")
            == .external(.unix(path: "/run/iptrtpproxy/control.sock")))
        #expect(try RelaySetting(parsing: "tcp:127.0.0.1:7722").description == "tcp:127.0.0.1:7722")
        #expect(try RelaySetting(parsing: "tcp:[::1]:7722").description == "tcp:[::1]:7722")
    }

    @Test("anything else is refused with what to write instead", arguments: [
        "", "kernel", "/run/x.sock", "tcp:127.0.0.1", "tcp:relay.example:7722", "unix:",
    ])
    func refused(_ text: String) {
        #expect(throws: ModuleConfigError.self) { try RelaySetting(parsing: text) }
    }
}
