/// The slot numbers of one of the XDP program's slot arrays (`ipt_slots4`, `ipt_slots6`): which
/// are free, and which were let go of and rest for a grace period before they are handed out
/// again. A packet that found a slot through the index just before the relay took it out may
/// still be reading it; the program runs for well under a microsecond, so a slot rewritten only
/// after `graceNanoseconds` is never seen half-written (the kernel's RCU waits for the same
/// reason, and a map update from user space cannot). Pure: the caller passes the time.
struct XDPSlotAllocator {
    /// How long a slot let go of rests before it is handed out again.
    let graceNanoseconds: UInt64
    /// Free slots, the next one last.
    private var free: [Int]
    /// Slots let go of, oldest first from `restingStart`, with the time they were let go of.
    private var resting: [(slot: Int, since: UInt64)] = []
    private var restingStart = 0

    /// `count` slots, all free; slot 0 is handed out first.
    init(count: Int, graceNanoseconds: UInt64) {
        self.graceNanoseconds = graceNanoseconds
        free = Array((0..<count).reversed())
    }

    /// A free slot, or nil when every slot is in use or still resting.
    mutating func take(now: UInt64) -> Int? {
        while restingStart < resting.count, now &- resting[restingStart].since >= graceNanoseconds {
            free.append(resting[restingStart].slot)
            restingStart += 1
        }
        // Drop the handed-back prefix once it is most of the array, so the array stays bounded.
        if restingStart > 64 && restingStart * 2 > resting.count {
            resting.removeFirst(restingStart)
            restingStart = 0
        }
        return free.popLast()
    }

    /// Lets `slot` go: it is handed out again once it has rested `graceNanoseconds`.
    mutating func release(_ slot: Int, now: UInt64) {
        resting.append((slot, now))
    }

    /// Slots that can be handed out now, and slots resting.
    var counts: (free: Int, resting: Int) { (free.count, resting.count - restingStart) }
}
