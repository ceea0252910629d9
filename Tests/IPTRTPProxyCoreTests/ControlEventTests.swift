import IPTRTPProxyCore
import Testing

@Suite("control protocol events")
struct ControlEventTests {
    @Test("subscribe is a request without arguments")
    func subscribeRequest() throws {
        let line = ControlProtocol.encode(ControlRequest(id: "e1", command: .subscribe))
        #expect(line == "iptrtp/2 e1 subscribe")
        #expect(try ControlProtocol.decodeRequest(Array(line.utf8)) == ControlRequest(id: "e1", command: .subscribe))
        #expect(throws: ControlProtocolError.self) { try ControlProtocol.decodeRequest(Array("iptrtp/2 e1 subscribe all".utf8)) }
    }

    @Test("an expired event is one line with id '-' and reads back as itself")
    func expiredRoundTrip() throws {
        let event = ControlEvent.expired(switchboard: "pub-1", session: SessionHandle(id: 7, created: 1_700_000_000))
        let line = ControlProtocol.encode(event)
        #expect(line == "iptrtp/2 - event expired pub-1 7/1700000000")
        #expect(ControlProtocol.isEvent(Array(line.utf8)))
        #expect(try ControlProtocol.decodeEvent(Array(line.utf8)) == event)
        #expect(try ControlProtocol.decodeEvent(Array((line + "\r").utf8)) == event)
    }

    @Test("replies are not events; malformed event lines are errors")
    func malformedEvents() {
        #expect(!ControlProtocol.isEvent(Array("iptrtp/2 - error request must be printable ASCII".utf8)))
        #expect(!ControlProtocol.isEvent(Array("iptrtp/2 5 ok".utf8)))
        for bad in [
            "iptrtp/2 - event expired pub", "iptrtp/2 - event expired pub 7", "iptrtp/2 - event expired pub 3-5/1",
            "iptrtp/2 - event expired p!b 7/1", "iptrtp/2 - event expired pub 7/1 extra", "iptrtp/2 - event restarted",
            "iptrtp/1 - event expired pub 7/1", "iptrtp/2 4 event expired pub 7/1",
        ] {
            #expect(throws: ControlProtocolError.self, "\(bad)") { try ControlProtocol.decodeEvent(Array(bad.utf8)) }
        }
    }
}
