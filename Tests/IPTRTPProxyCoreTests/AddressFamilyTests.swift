import Testing
@testable import IPTRTPProxyCore

/// A gate relays only clients of its own address family. The rule lives in the core, so the
/// CLI's in-process plane refuses what the relay refuses, with the relay's words.
@Suite("a client of another address family than its gate is refused")
struct AddressFamilyTests {
    let v6Offer = crlf("v=0\no=a 1 1 IN IP6 2001:db8::7\ns=-\nc=IN IP6 2001:db8::7\nt=0 0\nm=audio 49170 RTP/AVP 0\n")

    @Test("the rule: each side's RTP and RTCP addresses against that side's gate; no address, no refusal")
    func rule() throws {
        let sw = try #require(try testSwitchboards().named("pub"))
        var request = SessionRequest()
        #expect(sw.addressFamilyRefusal(of: request) == nil)
        request[.b].streams[1].address = Endpoint(address: IPAddress("2001:db8::9")!, port: 5001)
        #expect(sw.addressFamilyRefusal(of: request)
            == MediaPlaneError("switchboard 'pub': side b client [2001:db8::9]:5001 is IPv6 but gate B is IPv4"))
        #expect(sw.addressFamilyRefusal(of: request[.a], on: .a) == nil)
        request[.b].streams[1].address = Endpoint(address: IPAddress("198.51.100.9")!, port: 5001)
        #expect(sw.addressFamilyRefusal(of: request) == nil)

        let v6 = Switchboard(name: "six", gateA: Gate(address: IPAddress("2001:db8::1")!, basePort: 30000),
                             gateB: Gate(address: IPAddress("203.0.113.1")!, basePort: 40000))
        var v4OnV6 = SessionRequest()
        v4OnV6[.a].streams[0].address = Endpoint(address: IPAddress("192.0.2.10")!, port: 4000)
        #expect(v6.addressFamilyRefusal(of: v4OnV6)
            == MediaPlaneError("switchboard 'six': side a client 192.0.2.10:4000 is IPv4 but gate A is IPv6"))
    }

    @Test("the in-process plane (the CLI's dry run): an IPv6 offer to an IPv4 gate gets -1 with the relay's reason, nothing allocated")
    func allocRefused() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: v6Offer, contentType: nil, selects: &selects)
        #expect(!result.succeeded && result.body == nil)
        #expect(result.error == "alloc on 'pub' for m= line 6: switchboard 'pub': side a client [2001:db8::7]:49170 is IPv6 but gate A is IPv4")
        #expect(plane.liveSessions == 0)
    }

    @Test("the in-process plane: an IPv6 answer on an IPv4 gate's side fails the update; the session keeps what it had")
    func updateRefused() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let offer = crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 49170 RTP/AVP 0\n")
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: nil, selects: &selects).succeeded)
        let ids = try #require(selects.sessionIDs)
        let before = plane.inner.sessions(of: "pub")
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: v6Offer, contentType: nil, selects: &selects)
        #expect(result.error == "update of pub:0/1000 for m= line 6: switchboard 'pub': side b client [2001:db8::7]:49170 is IPv6 but gate B is IPv4")
        #expect(plane.inner.sessions(of: "pub") == before)
    }
}
