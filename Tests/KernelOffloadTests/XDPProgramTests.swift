import CIPTRTPProxyBPF
import Glibc
import IPTRTPProxyCore
import TestSupport
import Testing
@testable import KernelOffload

/// The XDP program itself, run by the kernel on packets built here (BPF_PROG_TEST_RUN: no
/// interface, nothing sent). Its map holds one IPv4 and one IPv6 stream. For every input the
/// program must either pass the packet byte for byte untouched (with the right reason counted),
/// or redirect it rewritten with both checksums right. Needs root (CAP_BPF) and build/bpf
/// (`make build`); skipped otherwise.
@Suite("XDP program", .enabled(if: XDPTestObject.runnable, "needs root and build/bpf/iptrtpproxy_xdp.o (make build)"))
struct XDPProgramTests {

    static let v4 = KernelStream(
        a: KernelLeg(relay: Endpoint(address: IPAddress("192.0.2.10")!, port: 30000),
                     peer: Endpoint(address: IPAddress("203.0.113.50")!, port: 5555)),
        b: KernelLeg(relay: Endpoint(address: IPAddress("192.0.2.11")!, port: 30002),
                     peer: Endpoint(address: IPAddress("198.51.100.2")!, port: 6000)))
    static let v6 = KernelStream(
        a: KernelLeg(relay: Endpoint(address: IPAddress("2001:db8:a::10")!, port: 31000),
                     peer: Endpoint(address: IPAddress("2001:db8:1::2")!, port: 4000)),
        b: KernelLeg(relay: Endpoint(address: IPAddress("2001:db8:a::11")!, port: 31002),
                     peer: Endpoint(address: IPAddress("2001:db8:2::2")!, port: 6000)))

    /// The loaded program with both streams in its maps, and its counters. `indexed`: the
    /// streams are in the fast index (as the relay puts them), else in the hash maps (as a
    /// direction whose index position another holds).
    final class Loaded {
        let object: BPFObject
        let program: Int32
        let counters: BPFMap
        let fast: XDPFastPath

        init(indexed: Bool = false, slots: UInt32 = 64) throws {
            object = try BPFObject(path: XDPTestObject.folder + "/" + XDPStreamOffload.objectName,
                                   mapSizes: [XDPStreamEntry.map4: 16, XDPStreamEntry.map6: 16,
                                              XDPStreamEntry.slots4: slots, XDPStreamEntry.slots6: slots])
            try object.load()
            program = try object.program(XDPAttachment.programName)
            counters = BPFMap(fd: try object.map("ipt_counters"))
            fast = try XDPFastPath(object: object, slotCounts: (slots, slots))
            for stream in [XDPProgramTests.v4, XDPProgramTests.v6] {
                for entry in try XDPStreamEntry.directions(of: stream) {
                    if indexed {
                        #expect(fast.place(entry, now: 0))
                    } else {
                        #expect(hash(entry).update(key: entry.key, value: entry.target) == 0)
                    }
                }
            }
            // The program redirects only from interfaces it is attached to; say lo (1) is one,
            // so that a routable packet is redirected (and its rewrite checked) here.
            let interfaces = BPFMap(fd: try object.map("ipt_interfaces"))
            #expect(interfaces.update(key: withUnsafeBytes(of: UInt32(1)) { Array($0) },
                                      value: withUnsafeBytes(of: UInt32(1)) { Array($0) }) == 0)
        }

        /// The hash map of `entry`'s family.
        func hash(_ entry: XDPStreamEntry) -> BPFMap { BPFMap(fd: try! object.map(entry.map)) }

        deinit { fast.close() }

        /// Runs the program on `packet`: its verdict and the packet as it came out.
        func run(_ packet: [UInt8]) throws -> (verdict: UInt32, packet: [UInt8]) {
            var output = [UInt8](repeating: 0, count: packet.count + 256)
            let (rc, verdict, length) = withBPFOptions(bpf_test_run_opts.self) { options in
                options.pointee.data_size_in = UInt32(packet.count)
                options.pointee.data_size_out = UInt32(output.count)
                options.pointee.repeat = 1
                let rc = packet.withUnsafeBytes { input in
                    output.withUnsafeMutableBytes { out in
                        options.pointee.data_in = input.baseAddress
                        options.pointee.data_out = out.baseAddress
                        return bpf_prog_test_run_opts(program, options)
                    }
                }
                return (rc, options.pointee.retval, Int(options.pointee.data_size_out))
            }
            if rc != 0 { throw KernelOffloadError.system("BPF_PROG_TEST_RUN", -rc) }
            return (verdict, Array(output[..<length]))
        }

        /// Slot `n` of the program's per-CPU counters, summed.
        func counter(_ n: Int) -> UInt64 {
            let cpus = Int(libbpf_num_possible_cpus())
            guard let values = counters.lookup(key: withUnsafeBytes(of: UInt32(n)) { Array($0) }, size: 8 * cpus) else { return 0 }
            return values.withUnsafeBytes { raw in (0..<cpus).reduce(0) { $0 + raw.loadUnaligned(fromByteOffset: 8 * $1, as: UInt64.self) } }
        }
    }

    enum Reason: Int { case forwarded = 0, badChecksum = 1, noRoute = 2, malformed = 3 }

    /// Runs `packet`, expects it passed untouched, and returns which reason counter moved (nil:
    /// none, i.e. it was not a known stream's packet).
    func passed(_ loaded: Loaded, _ packet: [UInt8], _ comment: Comment) throws -> Reason? {
        let before = (0..<4).map(loaded.counter)
        let (verdict, out) = try loaded.run(packet)
        #expect(verdict == UInt32(XDP_PASS.rawValue), comment)
        #expect(out == packet, comment)
        let after = (0..<4).map(loaded.counter)
        return (0..<4).first { after[$0] != before[$0] }.flatMap(Reason.init(rawValue:))
    }

    /// A valid packet of the stream either reaches the route step (passed for no route: the
    /// test machine's FIB has nothing from lo), or is redirected: then it must be the stream's
    /// rewrite, checksums right.
    func checkValid(_ loaded: Loaded, _ packet: [UInt8], _ expected: [UInt8], _ comment: Comment) throws {
        let before = (0..<4).map(loaded.counter)
        let (verdict, out) = try loaded.run(packet)
        let after = (0..<4).map(loaded.counter)
        if verdict == UInt32(XDP_REDIRECT.rawValue) {
            #expect(after[0] == before[0] + 1, comment)
            // MAC addresses come from the FIB; everything from the IP header on is ours.
            #expect(Array(out[12...]) == Array(expected[12...]), comment)
        } else {
            #expect(verdict == UInt32(XDP_PASS.rawValue), comment)
            #expect(out == packet, comment)
            #expect(after[2] == before[2] + 1, "passed for no route, i.e. every check before it held: \(comment)")
        }
    }

    @Test("valid packets of every length, IPv4 and IPv6, streams in the hash maps or the fast index: past every check, rewritten right when routed",
          arguments: [false, true])
    func validPackets(indexed: Bool) throws {
        let loaded = try Loaded(indexed: indexed)
        var random = SeededRandom(state: 15)
        for length in Array(0...40) + (0..<60).map({ _ in Int.random(in: 0...1432, using: &random) }) {
            let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            for stream in [Self.v4, Self.v6] {
                for (arrival, departure) in [(stream.a, stream.b), (stream.b, stream.a)] {
                    let packet = TestPacket.udp(from: arrival.peer, to: arrival.relay, payload: payload)
                    let rewritten = TestPacket.udp(from: departure.relay, to: departure.peer, payload: payload, hopLimit: 63)
                    try checkValid(loaded, packet, rewritten, "\(length) bytes \(arrival.peer)→\(arrival.relay)")
                }
            }
        }
        // IPv4 without a UDP checksum (0) is valid and stays without one.
        var noSum = TestPacket.udp(from: Self.v4.a.peer, to: Self.v4.a.relay, payload: [1, 2, 3])
        noSum[40] = 0; noSum[41] = 0
        var noSumOut = TestPacket.udp(from: Self.v4.b.relay, to: Self.v4.b.peer, payload: [1, 2, 3], hopLimit: 63)
        noSumOut[40] = 0; noSumOut[41] = 0
        try checkValid(loaded, noSum, noSumOut, "IPv4 without UDP checksum")
    }

    @Test("malformed packets of a known stream go to the normal path untouched, counted by reason", arguments: [false, true])
    func malformed(indexed: Bool) throws {
        let loaded = try Loaded(indexed: indexed)
        let payload = [UInt8](repeating: 0x55, count: 160)
        let v4 = TestPacket.udp(from: Self.v4.a.peer, to: Self.v4.a.relay, payload: payload)
        let v6 = TestPacket.udp(from: Self.v6.a.peer, to: Self.v6.a.relay, payload: payload)

        // Not even looked up: the program cannot or will not parse them as a stream's packet.
        var cases: [(String, [UInt8], Reason?)] = []
        cases.append(("Ethernet header only", Array(v4[..<14]), nil))
        cases.append(("IPv4 header cut", Array(v4[..<30]), nil))
        cases.append(("UDP header cut", Array(v4[..<38]), nil))
        var options = v4; options[14] = 0x46                   // IHL 6: 4 bytes of options
        cases.append(("IP options", options, nil))
        var fragment = v4; fragment[20] = 0x20                 // MF
        cases.append(("first fragment (MF)", TestPacket.fixIPv4Checksum(fragment), nil))
        var later = v4; later[21] = 0x10                       // offset 16
        cases.append(("later fragment", TestPacket.fixIPv4Checksum(later), nil))
        var ttl = v4; ttl[22] = 1
        cases.append(("TTL 1", TestPacket.fixIPv4Checksum(ttl), nil))
        var tcp = v4; tcp[23] = 6
        cases.append(("TCP", TestPacket.fixIPv4Checksum(tcp), nil))
        var vlan = Array(v4[..<12]) + [0x81, 0x00, 0x00, 0x05] + Array(v4[12...])
        vlan[12] = 0x81
        cases.append(("VLAN-tagged", vlan, nil))
        var ext = v6; ext[20] = 0                              // next header: hop-by-hop
        cases.append(("IPv6 extension header", ext, nil))
        var hop = v6; hop[21] = 1
        cases.append(("IPv6 hop limit 1", hop, nil))
        // Looked up, then refused.
        var ipSum = v4; ipSum[24] ^= 0xff
        cases.append(("wrong IPv4 header checksum", ipSum, .badChecksum))
        var udpSum = v4; udpSum[40] ^= 0x01
        cases.append(("wrong UDP checksum", udpSum, .badChecksum))
        var flipped = v4; flipped[60] ^= 0x80
        cases.append(("a payload bit flipped", flipped, .badChecksum))
        // CHECKSUM_PARTIAL as a local sender leaves it: the field holds the pseudo-header sum only.
        var partial = v4; let pseudo = TestPacket.pseudoHeaderSum(partial); partial[40] = UInt8(pseudo >> 8); partial[41] = UInt8(pseudo & 0xff)
        cases.append(("checksum left to the device", partial, .badChecksum))
        var v6Sum = v6; v6Sum[61] ^= 0x01
        cases.append(("wrong IPv6 UDP checksum", v6Sum, .badChecksum))
        var v6Zero = v6; v6Zero[60] = 0; v6Zero[61] = 0
        cases.append(("IPv6 UDP checksum 0", v6Zero, .badChecksum))
        cases.append(("payload cut short", Array(v4[..<(v4.count - 10)]), .malformed))
        var longer = v4; longer[38] = 0x01; longer[39] = 0x00   // UDP length 256 > IP's
        cases.append(("UDP length disagrees with IP's", longer, .malformed))
        var v6Length = v6; v6Length[19] &+= 2
        cases.append(("IPv6 payload length disagrees with UDP's", v6Length, .malformed))
        // A 4-byte payload (a DTMF event's size) makes a 46-byte frame, padded to Ethernet's 60.
        let short = TestPacket.udp(from: Self.v4.a.peer, to: Self.v4.a.relay, payload: [1, 2, 3, 4])
        cases.append(("Ethernet padding after a short datagram", short + [UInt8](repeating: 0, count: 60 - short.count), .malformed))
        cases.append(("a byte after the datagram", v4 + [0], .malformed))

        for (name, packet, reason) in cases {
            let counted = try passed(loaded, packet, "\(name)")
            #expect(counted == reason, "\(name): counted \(String(describing: counted)), want \(String(describing: reason))")
        }
    }

    @Test("fast index: the program finds every placed direction at the position Swift computed (300 random gates and ports, IPv4 and IPv6)")
    func indexPositionsAgree() throws {
        let loaded = try Loaded(indexed: false, slots: 1024)
        var random = SeededRandom(state: 1717)
        for i in 0..<300 {
            let v4 = i % 2 == 0
            func address() -> IPAddress {
                v4 ? .v4(UInt32.random(in: 0x0100_0000...0xDFFF_FFFF, using: &random))
                   : IPAddress((0..<8).map { _ in String(UInt16.random(in: 0...0xffff, using: &random), radix: 16) }.joined(separator: ":"))!
            }
            let port = UInt16.random(in: 1024...65535, using: &random)
            let stream = KernelStream(a: KernelLeg(relay: Endpoint(address: address(), port: port), peer: Endpoint(address: address(), port: 4000)),
                                      b: KernelLeg(relay: Endpoint(address: address(), port: port &+ 2), peer: Endpoint(address: address(), port: 6000)))
            let entry = try XDPStreamEntry.directions(of: stream)[0]
            guard loaded.fast.place(entry, now: 0) else { continue }   // a position an earlier random direction holds
            let packet = TestPacket.udp(from: stream.a.peer, to: stream.a.relay, payload: [UInt8](repeating: 9, count: 40))
            let expected = TestPacket.udp(from: stream.b.relay, to: stream.b.peer, payload: [UInt8](repeating: 9, count: 40), hopLimit: 63)
            try checkValid(loaded, packet, expected, "random direction \(i): \(stream.a.peer)→\(stream.a.relay)")
            // A stranger to the same gate port is not taken for it.
            let stranger = TestPacket.udp(from: Endpoint(address: stream.b.peer.address, port: 4000), to: stream.a.relay, payload: [1, 2, 3, 4])
            #expect(try passed(loaded, stranger, "stranger \(i)") == nil)
        }
        #expect(loaded.fast.count > 250)
    }

    @Test("fast index: two directions share a position, a third is found in the hash map; re-pointed and removed ones stop matching, the other half stays")
    func indexCollisionsAndRemoval() throws {
        let loaded = try Loaded(indexed: false, slots: 3)
        // Three gate addresses whose ports share a position: the first two are indexed (one
        // half of the position's pair each), the third goes to the hash map. (Not the stream
        // `Loaded` put in the hash map: once removed from the index, it must be unknown.)
        let first = KernelStream(a: KernelLeg(relay: Endpoint(address: IPAddress("192.0.2.10")!, port: 30100), peer: XDPProgramTests.v4.a.peer),
                                 b: KernelLeg(relay: Endpoint(address: IPAddress("192.0.2.11")!, port: 30102), peer: XDPProgramTests.v4.b.peer))
        let firstEntry = try XDPStreamEntry.directions(of: first)[0]
        var random = SeededRandom(state: 99)
        var colliding: [KernelStream] = []
        while colliding.count < 2 {
            let gate = Endpoint(address: .v4(UInt32.random(in: 0x0A00_0000...0x0AFF_FFFF, using: &random)), port: first.a.relay.port)
            let candidate = KernelStream(a: KernelLeg(relay: gate, peer: Endpoint(address: IPAddress("203.0.113.60")!, port: 7000)), b: first.b)
            if try XDPStreamEntry.directions(of: candidate)[0].indexPosition == firstEntry.indexPosition { colliding.append(candidate) }
        }
        let (second, third) = (colliding[0], colliding[1])
        let secondEntry = try XDPStreamEntry.directions(of: second)[0], thirdEntry = try XDPStreamEntry.directions(of: third)[0]
        #expect(loaded.fast.place(firstEntry, now: 0))
        #expect(loaded.fast.place(secondEntry, now: 0), "the position's other half")
        #expect(!loaded.fast.place(thirdEntry, now: 0), "both halves are taken")
        #expect(loaded.hash(thirdEntry).update(key: thirdEntry.key, value: thirdEntry.target) == 0)
        func packet(_ stream: KernelStream) -> [UInt8] { TestPacket.udp(from: stream.a.peer, to: stream.a.relay, payload: [5, 6, 7]) }
        func rewritten(_ stream: KernelStream) -> [UInt8] { TestPacket.udp(from: stream.b.relay, to: stream.b.peer, payload: [5, 6, 7], hopLimit: 63) }
        for (stream, name) in [(first, "indexed, low half"), (second, "indexed, high half"), (third, "hashed, colliding")] {
            try checkValid(loaded, packet(stream), rewritten(stream), "\(name)")
        }
        // Re-pointed: a new slot (the third and last), the old one resting; then no slot is free.
        #expect(loaded.fast.place(firstEntry, now: 1))
        #expect(!loaded.fast.place(firstEntry, now: 2), "every slot is taken or resting")
        try checkValid(loaded, packet(first), rewritten(first), "re-pointed")
        try checkValid(loaded, packet(second), rewritten(second), "the other half, after the re-point")
        // Removed: its packets are no longer known to the program; the other half still is.
        #expect(loaded.fast.remove(firstEntry.key, now: 3))
        #expect(!loaded.fast.holds(firstEntry.key))
        #expect(try passed(loaded, packet(first), "removed") == nil)
        #expect(loaded.fast.counter(firstEntry.key) == nil)
        try checkValid(loaded, packet(second), rewritten(second), "the other half, after the removal")
        try checkValid(loaded, packet(third), rewritten(third), "hashed, after the removal")
    }

    @Test("the map: full at its capacity (E2BIG), read whole in batches past one chunk")
    func mapCapacityAndBatches() throws {
        let object = try BPFObject(path: XDPTestObject.folder + "/" + XDPStreamOffload.objectName, mapSizes: [XDPStreamEntry.map4: 10_000])
        try object.load()
        let streams = BPFMap(fd: try object.map(XDPStreamEntry.map4))
        func entry(_ i: Int) -> XDPStreamEntry {
            XDPStreamEntry(arrival: KernelLeg(relay: Endpoint(address: .v4(0xC000_020A), port: UInt16(20000 + i % 40000)),
                                              peer: Endpoint(address: .v4(0xCB00_7100 + UInt32(i / 40000)), port: 5000)),
                           departure: Self.v4.b)
        }
        for i in 0..<10_000 { #expect(streams.update(key: entry(i).key, value: entry(i).target) == 0) }
        #expect(streams.update(key: entry(10_000).key, value: entry(10_000).target) == E2BIG)
        var seen = Set<[UInt8]>()
        try streams.forEach(keySize: XDPStreamEntry.keySize4, valueSize: XDPStreamEntry.targetSize, chunk: 3000) { k, v in
            seen.insert(Array(k))
            #expect(Array(v.prefix(36)) == Array(entry(0).target.prefix(36)))
        }
        #expect(seen.count == 10_000)
        #expect(seen.contains(entry(9_999).key))
    }

    @Test("property: 3,000 random mutations of a stream's packet never come out wrong", arguments: [false, true])
    func mutations(indexed: Bool) throws {
        let loaded = try Loaded(indexed: indexed)
        var random = SeededRandom(state: 1515)
        let bases = [Self.v4, Self.v6].map { TestPacket.udp(from: $0.a.peer, to: $0.a.relay, payload: [UInt8](repeating: 7, count: 100)) }
        for i in 0..<3000 {
            var packet = bases[i % 2]
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                packet[Int.random(in: 0..<packet.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { packet = Array(packet[..<Int.random(in: 14...packet.count, using: &random)]) }
            let (verdict, out) = try loaded.run(packet)
            if verdict == UInt32(XDP_PASS.rawValue) {
                #expect(out == packet, "mutation \(i) passed but changed")
            } else {
                #expect(verdict == UInt32(XDP_REDIRECT.rawValue), "mutation \(i): verdict \(verdict)")
                #expect(TestPacket.checksumsHold(out), "mutation \(i) redirected with a wrong checksum")
            }
        }
    }
}

/// Where the tests find the compiled program, and whether they can load it.
enum XDPTestObject {
    static let folder: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/build/bpf"
    }()
    static var runnable: Bool { geteuid() == 0 && access(folder + "/" + XDPStreamOffload.objectName, R_OK) == 0 }
}

/// Ethernet + IPv4/IPv6 + UDP packets with correct checksums.
enum TestPacket {
    static func udp(from source: Endpoint, to destination: Endpoint, payload: [UInt8], hopLimit: UInt8 = 64) -> [UInt8] {
        let udpLength = 8 + payload.count
        var udp: [UInt8] = [UInt8(source.port >> 8), UInt8(source.port & 0xff), UInt8(destination.port >> 8),
                            UInt8(destination.port & 0xff), UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0] + payload
        let mac: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]
        switch (source.address, destination.address) {
        case (.v4(let s), .v4(let d)):
            let total = 20 + udpLength
            var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0x12, 0x34, 0x40, 0, hopLimit, 17, 0, 0]
            ip += bytes(s) + bytes(d)
            let ipSum = ~fold(sum(ip))
            ip[10] = UInt8(ipSum >> 8); ip[11] = UInt8(ipSum & 0xff)
            var udpSum = ~fold(sum(bytes(s) + bytes(d) + [0, 17, UInt8(udpLength >> 8), UInt8(udpLength & 0xff)]) + sum(udp))
            if udpSum == 0 { udpSum = 0xffff }
            udp[6] = UInt8(udpSum >> 8); udp[7] = UInt8(udpSum & 0xff)
            return mac + [0x08, 0x00] + ip + udp
        case (.v6(let s), .v6(let d)):
            var ip: [UInt8] = [0x60, 0, 0, 0, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 17, hopLimit]
            ip += s.bytes + d.bytes
            var udpSum = ~fold(sum(s.bytes + d.bytes + [0, 0, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0, 0, 17]) + sum(udp))
            if udpSum == 0 { udpSum = 0xffff }
            udp[6] = UInt8(udpSum >> 8); udp[7] = UInt8(udpSum & 0xff)
            return mac + [0x86, 0xdd] + ip + udp
        default:
            fatalError("mixed families")
        }
    }

    static func bytes(_ a: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: a >> (24 - 8 * UInt32($0))) } }

    /// One's complement sum of big-endian 16-bit words (an odd last byte padded with zero).
    static func sum(_ data: [UInt8]) -> UInt32 {
        var s: UInt32 = 0
        var i = 0
        while i + 1 < data.count { s += UInt32(data[i]) << 8 | UInt32(data[i + 1]); i += 2 }
        if i < data.count { s += UInt32(data[i]) << 8 }
        return s
    }

    static func fold(_ s: UInt32) -> UInt16 {
        var s = s
        while s > 0xffff { s = (s & 0xffff) + (s >> 16) }
        return UInt16(s)
    }

    static func fixIPv4Checksum(_ packet: [UInt8]) -> [UInt8] {
        var p = packet
        p[24] = 0; p[25] = 0
        let s = ~fold(sum(Array(p[14..<34])))
        p[24] = UInt8(s >> 8); p[25] = UInt8(s & 0xff)
        return p
    }

    /// The IPv4 pseudo-header sum (not complemented), as a device-offloaded packet carries it.
    static func pseudoHeaderSum(_ p: [UInt8]) -> UInt16 {
        fold(sum(Array(p[26..<34]) + [0, 17] + Array(p[38..<40])))
    }

    /// True when the IP header checksum (IPv4) and the UDP checksum of `p` are right.
    static func checksumsHold(_ p: [UInt8]) -> Bool {
        guard p.count >= 14 else { return false }
        if p[12] == 0x08 && p[13] == 0x00 {
            guard p.count >= 42 else { return false }
            let udpLength = Int(p[38]) << 8 | Int(p[39])
            guard fold(sum(Array(p[14..<34]))) == 0xffff, 34 + udpLength <= p.count else { return false }
            if p[40] == 0 && p[41] == 0 { return true }
            return fold(sum(Array(p[26..<34]) + [0, 17] + Array(p[38..<40])) + sum(Array(p[34..<(34 + udpLength)]))) == 0xffff
        }
        guard p.count >= 62 else { return false }
        let udpLength = Int(p[58]) << 8 | Int(p[59])
        guard 54 + udpLength <= p.count else { return false }
        return fold(sum(Array(p[22..<54]) + [0, 0] + Array(p[58..<60]) + [0, 0, 0, 17]) + sum(Array(p[54..<(54 + udpLength)]))) == 0xffff
    }
}
