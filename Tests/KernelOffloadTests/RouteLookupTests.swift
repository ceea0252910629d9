import CIPTRTPProxyNFT
import Glibc
import IPTRTPProxyCore
import Testing
@testable import KernelOffload

/// Route lookups: the RTM_GETROUTE request, and the reading of its reply, from messages built here
/// byte by byte as the kernel writes them; then one real lookup.
@Suite("Route lookup")
struct RouteLookupTests {
    typealias B = NetlinkBytes
    let replies = RequestReplies(sequence: 5, portID: 42)
    let destination: [UInt8] = [198, 51, 100, 2]

    /// An RTM_NEWROUTE reply of `type` with `attributes`.
    func reply(type: UInt8 = UInt8(RTN_UNICAST), _ attributes: [[UInt8]]) -> [NetlinkMessage] {
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (u32).
        let header: [UInt8] = [UInt8(AF_INET), 32, 0, 0, 254, 0, 0, type] + B.host(UInt32(0))
        return NetlinkMessage.split(B.message(type: UInt16(RTM_NEWROUTE), sequence: 5, port: 42,
                                              payload: header + attributes.flatMap { $0 }))
    }

    @Test("a connected network: the output interface, and the destination itself as next hop")
    func connected() throws {
        let route = try RouteLookup.answer(to: destination, in: reply([
            B.attribute(B.nft(RTA_DST), destination), B.attribute(B.nft(RTA_OIF), B.host(UInt32(3))),
        ]), replies: replies)
        #expect(route == RouteAnswer(type: UInt8(RTN_UNICAST), interface: 3, nextHop: destination))
    }

    @Test("behind a gateway: the gateway is the next hop")
    func gateway() throws {
        let route = try RouteLookup.answer(to: destination, in: reply([
            B.attribute(B.nft(RTA_GATEWAY), [198, 51, 100, 1]), B.attribute(B.nft(RTA_OIF), B.host(UInt32(2))),
        ]), replies: replies)
        #expect(route == RouteAnswer(type: UInt8(RTN_UNICAST), interface: 2, nextHop: [198, 51, 100, 1]))
    }

    @Test("a local route keeps its type, for the caller to refuse")
    func local() throws {
        let route = try RouteLookup.answer(to: destination, in: reply(type: UInt8(RTN_LOCAL), [
            B.attribute(B.nft(RTA_OIF), B.host(UInt32(1))),
        ]), replies: replies)
        #expect(route.type == UInt8(RTN_LOCAL))
    }

    @Test("the kernel's error is thrown as it came; no route at all is ENOENT; a bad attribute ERANGE")
    func failures() {
        #expect(throws: NetlinkError(ENETUNREACH)) {
            try RouteLookup.answer(to: destination, in: NetlinkMessage.split(B.error(-ENETUNREACH, sequence: 5, port: 42)),
                                   replies: replies)
        }
        #expect(throws: NetlinkError(ENOENT)) {
            try RouteLookup.answer(to: destination, in: NetlinkMessage.split(B.error(0, sequence: 5, port: 42)), replies: replies)
        }
        #expect(throws: NetlinkError(ERANGE)) {
            try RouteLookup.answer(to: destination, in: reply([B.attribute(B.nft(RTA_OIF), [1, 0])]), replies: replies)
        }
        #expect(throws: NetlinkError(ERANGE)) {
            try RouteLookup.answer(to: destination, in: reply([B.attribute(B.nft(RTA_GATEWAY), [1, 2, 3, 4, 5, 6])]), replies: replies)
        }
    }

    @Test("the request: RTM_GETROUTE for one IPv4 destination from one source")
    func request() throws {
        let m = try #require(NetlinkMessage.split(RouteLookup.request(to: destination, from: [192, 0, 2, 10], sequence: 5)).first)
        #expect(m.type == UInt16(RTM_GETROUTE))
        #expect(m.flags == UInt16(NLM_F_REQUEST))
        #expect(m.sequence == 5)
        let header = m.payload.withUnsafeBytes { $0.loadUnaligned(as: rtmsg.self) }
        #expect((header.rtm_family, header.rtm_dst_len, header.rtm_src_len) == (UInt8(AF_INET), 32, 32))
        let a = m.attributes(after: MemoryLayout<rtmsg>.size)
        #expect(a.first(RTA_DST).map { Array($0.payload) } == destination)
        #expect(a.first(RTA_SRC).map { Array($0.payload) } == [192, 0, 2, 10])
        let anySource = try #require(NetlinkMessage.split(RouteLookup.request(to: destination, from: nil, sequence: 5)).first)
        #expect(anySource.attributes(after: MemoryLayout<rtmsg>.size).first(RTA_SRC) == nil)
    }

    @Test("a real lookup: this host's own address is local, not reached through a network interface")
    func realLoopback() throws {
        let route = try RouteLookup.route(to: [127, 0, 0, 1], from: nil)
        #expect(route.type == UInt8(RTN_LOCAL))
        #expect(throws: KernelOffloadError.self) {
            try NFTablesOffload.route(to: IPAddress("127.0.0.1")!, from: IPAddress("127.0.0.1")!)
        }
    }
}
