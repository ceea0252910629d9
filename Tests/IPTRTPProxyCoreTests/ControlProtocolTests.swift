import Testing
@testable import IPTRTPProxyCore

@Suite("control protocol v2: requests and replies")
struct ControlProtocolTests {
    func decode(_ line: String) throws -> ControlRequest { try ControlProtocol.decodeRequest(Array(line.utf8)) }

    func request(_ side: GateSide, rtp: String?, learning: UInt32?, alwaysLearn: Bool = false) -> SessionRequest {
        var r = SessionRequest()
        let endpoint = rtp.flatMap(ControlProtocol.parseEndpoint)
        r[side] = SourceRequest(alwaysLearn: alwaysLearn, streams: (0..<2).map { j in
            StreamRequest(address: endpoint.map { Endpoint(address: $0.address, port: $0.port + UInt16(j)) }, learningTimeout: learning)
        })
        return r
    }

    @Test("an alloc request is one line with the side's fields; it decodes back to the same request")
    func allocLine() throws {
        let r = ControlRequest(id: "7", command: .alloc(switchboard: "pub", request: request(.a, rtp: "192.0.2.10:4000", learning: 10)))
        let line = ControlProtocol.encode(r)
        #expect(line == "iptrtp/2 7 alloc pub a.always-learn=0 a.rtp=192.0.2.10:4000 a.rtp-learning=10 a.rtcp=192.0.2.10:4001 a.rtcp-learning=10")
        #expect(try decode(line) == r)
    }

    @Test("update carries ID/CREATED; IPv6 clients are bracketed; a side that says nothing has no field")
    func updateLine() throws {
        let r = ControlRequest(id: "u-1", command: .update(
            switchboard: "Pub_2", session: SessionHandle(id: 12, created: 1700000000),
            request: request(.b, rtp: "[2001:db8::5]:5000", learning: nil, alwaysLearn: true)))
        let line = ControlProtocol.encode(r)
        #expect(line == "iptrtp/2 u-1 update Pub_2 12/1700000000 b.always-learn=1 b.rtp=[2001:db8::5]:5000 b.rtcp=[2001:db8::5]:5001")
        #expect(try decode(line) == r)
    }

    @Test("delete takes a range of ids with the first id's created stamp")
    func deleteLine() throws {
        #expect(try decode("iptrtp/2 9 delete pub 3-5/77").command == .delete(switchboard: "pub", ids: 3...5, created: 77))
        #expect(try decode("iptrtp/2 9 delete pub 3/77").command == .delete(switchboard: "pub", ids: 3...3, created: 77))
        let line = ControlProtocol.encode(ControlRequest(id: "9", command: .delete(switchboard: "pub", ids: 3...5, created: 77)))
        #expect(line == "iptrtp/2 9 delete pub 3-5/77")
    }

    @Test("ping, info, stats, list and auth")
    func simpleCommands() throws {
        #expect(try decode("iptrtp/2 1 ping").command == .ping)
        #expect(try decode("iptrtp/2 1 info").command == .info)
        #expect(try decode("iptrtp/2 1 stats").command == .stats)
        #expect(try decode("iptrtp/2 1 list").command == .list(switchboard: nil))
        #expect(try decode("iptrtp/2 1 list pub").command == .list(switchboard: "pub"))
        #expect(try decode("iptrtp/2 1 auth n0nce pr00f").command == .auth(nonce: "n0nce", proof: "pr00f"))
        #expect(throws: ControlProtocolError.self) { try decode("iptrtp/2 1 auth s3cr3t") }
        #expect(try decode("iptrtp/2 1 ping\r").command == .ping)
    }

    @Test("malformed requests are errors that carry the id when it could be read", arguments: [
        ("", nil),
        ("hello", nil),
        ("iptrtp/1 1 ping", nil),
        ("iptrtp/2", nil),
        ("iptrtp/2 bad!id ping", nil),
        ("iptrtp/2 1", "1"),
        ("iptrtp/2 1 fly", "1"),
        ("iptrtp/2 1 ping extra", "1"),
        ("iptrtp/2 1  ping", "1"),
        ("iptrtp/2 2 alloc", "2"),
        ("iptrtp/2 2 alloc no/such/name", "2"),
        ("iptrtp/2 2 alloc pub c.rtp=1.2.3.4:5", "2"),
        ("iptrtp/2 2 alloc pub a.rtp=1.2.3.4", "2"),
        ("iptrtp/2 2 alloc pub a.rtp=1.2.3.4:70000", "2"),
        ("iptrtp/2 2 alloc pub a.rtp=[1.2.3.4]:5", "2"),
        ("iptrtp/2 2 alloc pub a.rtp=::1:5", "2"),
        ("iptrtp/2 2 alloc pub a.rtp-learning=-1", "2"),
        ("iptrtp/2 2 alloc pub a.always-learn=yes", "2"),
        ("iptrtp/2 2 alloc pub a.rtp=1.2.3.4:5 a.rtp=1.2.3.4:6", "2"),
        ("iptrtp/2 2 alloc pub a.colour=red", "2"),
        ("iptrtp/2 2 alloc pub junk", "2"),
        ("iptrtp/2 3 update pub 7", "3"),
        ("iptrtp/2 3 update pub 7-8/1", "3"),
        ("iptrtp/2 4 delete pub 9-3/1", "4"),
        ("iptrtp/2 4 delete pub x/1", "4"),
        ("iptrtp/2 4 delete pub 1/99999999999", "4"),
        ("iptrtp/2 4 delete pub 1/2 3", "4"),
    ] as [(String, String?)])
    func malformed(line: String, id: String?) {
        #expect(throws: ControlProtocolError.self) { try decode(line) }
        do {
            _ = try decode(line)
        } catch let e as ControlProtocolError {
            #expect(e.id == id)
            #expect(!e.message.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("non-ASCII bytes and over-long lines are refused")
    func hostileBytes() {
        #expect(throws: ControlProtocolError.self) { try ControlProtocol.decodeRequest([0x69, 0xff, 0x00]) }
        let long = Array("iptrtp/2 1 list ".utf8) + Array(repeating: UInt8(ascii: "a"), count: ControlProtocol.maxRequestLength)
        #expect(throws: ControlProtocolError.self) { try ControlProtocol.decodeRequest(long) }
    }

    @Test("replies: ok with a payload, ok without, error; newlines in a message never split the line")
    func replies() throws {
        let ok = ControlReply(id: "5", outcome: .ok("3/1700000000 40006 41006"))
        #expect(ControlProtocol.encode(ok) == "iptrtp/2 5 ok 3/1700000000 40006 41006")
        #expect(try ControlProtocol.decodeReply(Array(ControlProtocol.encode(ok).utf8)) == ok)
        #expect(ControlProtocol.encode(ControlReply(id: "6", outcome: .ok(""))) == "iptrtp/2 6 ok")
        #expect(try ControlProtocol.decodeReply(Array("iptrtp/2 6 ok".utf8)) == ControlReply(id: "6", outcome: .ok("")))
        let err = ControlReply(id: "7", outcome: .error("no session\n7/1"))
        #expect(ControlProtocol.encode(err) == "iptrtp/2 7 error no session 7/1")
        #expect(throws: ControlProtocolError.self) { try ControlProtocol.decodeReply(Array("iptrtp/2 7 maybe".utf8)) }
    }

    @Test("the alloc reply payload round-trips")
    func allocPayload() throws {
        let a = AllocatedSession(handle: SessionHandle(id: 3, created: 1700000000), rtpPorts: [40006, 41006])
        #expect(ControlProtocol.encode(a) == "3/1700000000 40006 41006")
        #expect(try ControlProtocol.decodeAllocated("3/1700000000 40006 41006") == a)
        #expect(throws: ControlProtocolError.self) { try ControlProtocol.decodeAllocated("3 40006") }
    }
}
