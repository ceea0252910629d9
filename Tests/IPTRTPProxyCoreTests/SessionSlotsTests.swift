import Testing
@testable import IPTRTPProxyCore

@Suite("Session slots: round robin, resting, created stamps")
struct SessionSlotsTests {
    @Test("a freed slot rests for the resurrection timeout")
    func resting() {
        var slots = SessionSlots(count: 1, resurrectionTimeout: 10)
        let first = slots.allocate(now: 100)!
        #expect(slots.allocate(now: 100) == nil)
        let freed = slots.free(first, now: 105)
        #expect(freed)
        #expect(slots.allocate(now: 114) == nil)
        let second = slots.allocate(now: 115)!
        #expect(second.id == 0 && second.created == 115)
        #expect(!slots.isLive(first))
        #expect(slots.isLive(second))
    }

    @Test("incarnations differ even within one second")
    func stampsDiffer() {
        var slots = SessionSlots(count: 1, resurrectionTimeout: 0)
        let a = slots.allocate(now: 50)!
        slots.free(a, now: 50)
        let b = slots.allocate(now: 50)!
        #expect(a.created != b.created)
        let freedAgain = slots.free(a, now: 50)
        #expect(!freedAgain)
    }

    @Test("allocation walks round robin")
    func roundRobin() {
        var slots = SessionSlots(count: 3, resurrectionTimeout: 0)
        let a = slots.allocate(now: 1)!
        slots.free(a, now: 1)
        #expect(slots.allocate(now: 1)!.id == 1)
        #expect(slots.allocate(now: 1)!.id == 2)
        #expect(slots.allocate(now: 1)!.id == 0)
    }
}
