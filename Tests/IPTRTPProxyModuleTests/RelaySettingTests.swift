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
        guard case .external(let unix) = try RelaySetting(parsing: "unix:/run/iptrtpproxy/control.sock") else {
            Issue.record("unix: is a media host")
            return
        }
        #expect(unix.address == .unix(path: "/run/iptrtpproxy/control.sock"))
        #expect(unix.weight == 1)
        #expect(try RelaySetting(parsing: "tcp:127.0.0.1:7722").description == "tcp:127.0.0.1:7722")
        #expect(try RelaySetting(parsing: "tcp:[::1]:7722").description == "tcp:[::1]:7722")
    }

    @Test("a media host takes weight, secret and id; its default id is derived from its address, not its place")
    func hostParameters() throws {
        guard case .external(let h) = try RelaySetting(parsing: " tcp:10.0.0.5:7722; weight=2 ;id=m1;secret=0123456789abcdef ") else {
            Issue.record("tcp: is a media host")
            return
        }
        #expect(h.weight == 2)
        #expect(h.id == "m1")
        #expect(h.secret == "0123456789abcdef")
        #expect(h.description == "tcp:10.0.0.5:7722;weight=2;id=m1")
        let a = try RelayEndpoint(parsing: "tcp:10.0.0.5:7722"), b = try RelayEndpoint(parsing: "tcp:10.0.0.6:7722")
        #expect(a.id == (try RelayEndpoint(parsing: "tcp:10.0.0.5:7722;weight=3")).id)
        #expect(a.id != b.id)
        #expect(a.id.count == 8 && SessionIDList.isValidHost(a.id))
    }

    @Test("anything else is refused with what to write instead", arguments: [
        "", "kernel", "/run/x.sock", "tcp:127.0.0.1", "tcp:relay.example:7722", "unix:",
        "tcp:127.0.0.1:7722;weight=0", "tcp:127.0.0.1:7722;weight=1001", "tcp:127.0.0.1:7722;weight=x",
        "tcp:127.0.0.1:7722;secret=short", "tcp:127.0.0.1:7722;id=a@b", "tcp:127.0.0.1:7722;colour=red",
        "tcp:127.0.0.1:7722;weight", "tcp:127.0.0.1:7722;weight=1;weight=2",
    ])
    func refused(_ text: String) {
        #expect(throws: ModuleConfigError.self) { try RelaySetting(parsing: text) }
    }
}
