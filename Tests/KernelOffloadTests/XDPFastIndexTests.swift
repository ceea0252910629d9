import IPTRTPProxyCore
import TestSupport
import Testing
@testable import KernelOffload

/// The pure parts of the XDP program's fast index: positions and the slots' grace period. The
/// program's side (that it computes the same positions and finds what is placed) is in
/// "XDP program".
@Suite("XDP fast index")
struct XDPFastIndexTests {
    static func direction(gate: IPAddress, port: UInt16, client: IPAddress = IPAddress("203.0.113.50")!) -> XDPStreamEntry {
        let other: IPAddress = gate.isV4 ? IPAddress("198.51.100.2")! : IPAddress("2001:db8:2::2")!
        return XDPStreamEntry(arrival: KernelLeg(relay: Endpoint(address: gate, port: port), peer: Endpoint(address: client, port: 5555)),
                              departure: KernelLeg(relay: Endpoint(address: gate, port: port &+ 2), peer: Endpoint(address: other, port: 6000)))
    }

    @Test("every port of one gate address has a position of its own, IPv4 and IPv6")
    func portsOfOneGateNeverCollide() {
        for gate in [IPAddress("192.0.2.10")!, IPAddress("2001:db8:a::10")!] {
            let client: IPAddress = gate.isV4 ? IPAddress("203.0.113.50")! : IPAddress("2001:db8:1::2")!
            var seen = Set<Int>()
            for port in UInt16(1)...UInt16.max {
                let position = Self.direction(gate: gate, port: port, client: client).indexPosition
                #expect(position >= 0 && position < XDPStreamEntry.indexSize)
                seen.insert(position)
            }
            #expect(seen.count == Int(UInt16.max), "\(gate)")
        }
    }

    @Test("the position depends on the gate, not on the client")
    func positionIgnoresTheClient() {
        let gate = IPAddress("192.0.2.10")!
        let a = Self.direction(gate: gate, port: 30000, client: IPAddress("203.0.113.50")!)
        let b = Self.direction(gate: gate, port: 30000, client: IPAddress("198.51.100.77")!)
        #expect(a.indexPosition == b.indexPosition)
        // Two gate addresses with the same port range (the usual switchboard) spread apart.
        let other = Self.direction(gate: IPAddress("192.0.2.11")!, port: 30000)
        #expect(a.indexPosition != other.indexPosition)
    }

    @Test("a position's pair: each half set and cleared without touching the other")
    func pairHalves() {
        var pair: UInt64 = 0
        pair = XDPFastPath.replacing(half: 0, of: pair, with: 7)
        pair = XDPFastPath.replacing(half: 1, of: pair, with: 0xFFFF_FFFF)
        #expect(XDPFastPath.slotNumber(in: pair, half: 0) == 7)
        #expect(XDPFastPath.slotNumber(in: pair, half: 1) == 0xFFFF_FFFF)
        pair = XDPFastPath.replacing(half: 0, of: pair, with: 0)
        #expect(pair == 0xFFFF_FFFF_0000_0000)
        pair = XDPFastPath.replacing(half: 1, of: pair, with: 3)
        #expect(pair == 3 << 32)
    }

    @Test("slots: handed out in order, none when all are used, a released one only after its grace period")
    func slotGrace() {
        var slots = XDPSlotAllocator(count: 3, graceNanoseconds: 1_000)
        #expect(slots.take(now: 0) == 0)
        #expect(slots.take(now: 0) == 1)
        #expect(slots.take(now: 0) == 2)
        #expect(slots.take(now: 0) == nil)
        slots.release(1, now: 100)
        #expect(slots.counts == (0, 1))
        #expect(slots.take(now: 1_099) == nil, "still resting")
        #expect(slots.take(now: 1_100) == 1)
        #expect(slots.take(now: 5_000) == nil)
    }

    @Test("slots: released oldest first, the resting list stays bounded over a long run")
    func slotChurn() {
        var slots = XDPSlotAllocator(count: 100, graceNanoseconds: 10)
        var now: UInt64 = 0
        var held: [Int] = []
        for _ in 0..<100 { held.append(slots.take(now: now)!) }
        for round in 0..<10_000 {
            now += 1
            let slot = held.removeFirst()
            slots.release(slot, now: now)
            // Ten ticks later exactly the slot released ten ticks ago is back.
            if round >= 10 {
                let taken = slots.take(now: now)
                #expect(taken != nil)
                if let taken { held.append(taken) }
            }
        }
        #expect(slots.counts.free + slots.counts.resting + held.count == 100)
        #expect(slots.counts.resting <= 11)
    }
}
