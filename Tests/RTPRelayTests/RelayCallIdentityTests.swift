import Glibc
import IPTRTPProxyCore
import Testing
@testable import RTPRelay

/// The relay keeps the Call-ID and From tag an alloc named, shows them in `list`, keeps them
/// across updates and a journal restore, and forgets them with the session.
@Suite("Call-ID of sessions in the relay")
struct RelayCallIdentityTests {
    @Test("list shows the call of each session; an update keeps it; a restored relay still knows it")
    func listed() throws {
        let net = "127.0.74"
        let journal = "/tmp/ipt-callid-journal-\(getpid())"
        defer { unlink(journal) }
        let call = CallIdentity(callID: "a84b4c76e66710@pc33.example.com", fromTag: "1928301774")
        var request = sideRequest(.a, "\(net).10", 31000)
        request.call = call
        var handle: SessionHandle
        do {
            let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37400, journal: journal)
            handle = try h.engine.allocateSession(switchboard: "pub", request: request).handle
            let plain = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "\(net).11", 31000)).handle
            try h.engine.updateSession(switchboard: "pub", session: handle, request: sideRequest(.b, "\(net).20", 32000))
            let listed = try h.engine.list().sessions
            #expect(listed.first { $0.handle == handle }?.call == call)
            #expect(listed.first { $0.handle == plain }?.call == nil)
            #expect(try SessionListing(json: SessionListing(sessions: listed).json).sessions.first { $0.handle == handle }?.call == call)
            h.engine.stop()
        }
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37400, journal: journal)
        defer { h.engine.stop() }
        #expect(try h.engine.list().sessions.first { $0.handle == handle }?.call == call)
        try h.engine.deleteSessions(switchboard: "pub", ids: handle.id...handle.id, created: handle.created)
        let again = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "\(net).12", 31000)).handle
        #expect(try h.engine.list().sessions.first { $0.handle == again }?.call == nil)
    }
}
