import Testing
@testable import IPTRTPProxyCore

@Suite("Session slots: unpredictable order, resting, created stamps")
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

    @Test("round robin (the dry-run plane's order) walks the slots in turn")
    func roundRobin() {
        var slots = SessionSlots(count: 3, resurrectionTimeout: 0, order: .roundRobin)
        let a = slots.allocate(now: 1)!
        slots.free(a, now: 1)
        #expect(slots.allocate(now: 1)!.id == 1)
        #expect(slots.allocate(now: 1)!.id == 2)
        #expect(slots.allocate(now: 1)!.id == 0)
    }


    @Test("property: under any sequence of allocations and frees, a slot is handed out only when usable, never twice, and resting slots rest", arguments: 0..<50)
    func unpredictableKeepsTheRules(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        let count = Int.random(in: 1...12, using: &rng)
        let rest = UInt32.random(in: 0...5, using: &rng)
        var slots = SessionSlots(count: count, resurrectionTimeout: rest)
        var live: [SessionHandle] = []
        var freedAt: [Int: UInt32] = [:]
        var now: UInt32 = 1000
        for _ in 0..<200 {
            now += UInt32.random(in: 0...2, using: &rng)
            if Bool.random(using: &rng) || live.isEmpty {
                let usable = (0..<count).filter { id in
                    !live.contains { $0.id == id } && (freedAt[id].map { now - $0 >= rest } ?? true)
                }
                guard let h = slots.allocate(now: now, using: &rng) else {
                    #expect(usable.isEmpty, "seed \(seed): nil while \(usable) were usable")
                    continue
                }
                #expect(usable.contains(h.id), "seed \(seed): slot \(h.id) handed out but not usable")
                #expect(slots.isLive(h))
                live.append(h)
            } else {
                let h = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                let freed = slots.free(h, now: now)
                #expect(freed)
                freedAt[h.id] = now
            }
        }
    }

    @Test("property: the first slot of a fresh switchboard is spread over the whole range, not always the lowest")
    func unpredictableSpreads() {
        var rng = SeededRandom(state: 7)
        var seen = Array(repeating: 0, count: 16)
        for _ in 0..<1600 {
            var slots = SessionSlots(count: 16, resurrectionTimeout: 10)
            seen[slots.allocate(now: 1, using: &rng)!.id] += 1
        }
        // Uniform: 100 each on average; every slot is drawn, none dominates.
        #expect(seen.allSatisfy { $0 > 50 && $0 < 160 }, "\(seen)")
        // The system generator too: 64 fresh draws from 1000 slots are not one id, nor in order.
        let ids = (0..<64).map { _ in
            var slots = SessionSlots(count: 1000, resurrectionTimeout: 10)
            return slots.allocate(now: 1)!.id
        }
        #expect(Set(ids).count > 32)
    }

    @Test("consecutive allocations of the relay's order do not walk the range: the next port cannot be guessed from the last")
    func nextIsNotTheSuccessor() {
        var rng = SeededRandom(state: 99)
        var slots = SessionSlots(count: 500, resurrectionTimeout: 10)
        var successors = 0
        var last = slots.allocate(now: 1, using: &rng)!.id
        for _ in 0..<100 {
            let id = slots.allocate(now: 1, using: &rng)!.id
            if id == last + 1 { successors += 1 }
            last = id
        }
        #expect(successors < 5)
    }

    @Test("warm slots (kept sockets) are not preferred: the draw stays uniform over every usable slot, so the next ports are not among the last calls'; taking a warm slot clears it")
    func warmNotPreferred() {
        var rng = SeededRandom(state: 5)
        var warmDraws = 0
        for _ in 0..<2000 {
            var slots = SessionSlots(count: 100, resurrectionTimeout: 0)
            let recent = (0..<4).map { _ in slots.allocate(now: 1, using: &rng)! }
            for h in recent {
                slots.free(h, now: 1)
                slots.setWarm(h.id, true)
            }
            let next = slots.allocate(now: 2, using: &rng)!
            if recent.contains(where: { $0.id == next.id }) {
                warmDraws += 1
                #expect(!slots.isWarm(next.id) && slots.warm.count == 3)
            }
        }
        // 4 of 100 usable slots are warm: about 80 of 2000 draws, not all of them.
        #expect(warmDraws > 40 && warmDraws < 130, "\(warmDraws) of 2000 draws were warm slots")
    }

    @Test("property: the warm list names exactly the warm slots, never one in use, under any sequence", arguments: 0..<30)
    func warmListConsistent(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        let count = Int.random(in: 1...10, using: &rng)
        var slots = SessionSlots(count: count, resurrectionTimeout: UInt32.random(in: 0...2, using: &rng))
        var live: [SessionHandle] = []
        var now: UInt32 = 10
        for _ in 0..<300 {
            now += UInt32.random(in: 0...1, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                if let h = slots.allocate(now: now, using: &rng) { live.append(h) }
            case 1 where !live.isEmpty:
                let h = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                slots.free(h, now: now)
                slots.setWarm(h.id, Bool.random(using: &rng))
            case 2:
                // Marking a slot in use warm is ignored; marking a warm one cold releases it.
                slots.setWarm(Int.random(in: 0..<count, using: &rng), Bool.random(using: &rng))
            default:
                break
            }
            let listed = Set(slots.warm)
            #expect(listed.count == slots.warm.count, "seed \(seed): a slot listed twice")
            for id in 0..<count {
                #expect(slots.isWarm(id) == listed.contains(id), "seed \(seed): slot \(id)")
                if slots.states[id] == .inUse { #expect(!slots.isWarm(id), "seed \(seed): slot \(id) in use and warm") }
            }
        }
    }
}
