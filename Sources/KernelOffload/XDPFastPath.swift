import CIPTRTPProxyBPF
import Glibc

/// The XDP program's fast index (bpf/iptrtpproxy_xdp.bpf.c, "the fast index"), written through
/// the maps' shared memory. A direction placed here is found by the program with two array
/// lookups, which the verifier inlines, instead of a hash map lookup (about 40 ns less per packet
/// on the bench's VM). A position holds two slot numbers, so two directions whose positions
/// meet are both placed. A direction that cannot be placed, because two others hold its position
/// or no slot is free, goes to the hash map (`XDPStreamOffload` decides).
///
/// Publishing is ordered so that a packet never sees a half-written slot: a slot is written
/// whole while no position names it, then its number is stored into its half of the position's
/// pair with one 64-bit release store; a slot taken out of the index rests `graceNanoseconds` before it is
/// written again (`XDPSlotAllocator`). Counters are read straight from the slots, with no
/// system call.
///
/// Not thread-safe: `XDPStreamOffload` keeps it in its state, behind its lock.
final class XDPFastPath {
    /// Slots per family for a map capacity of `capacity` directions. The arrays are allocated in
    /// full when the program is loaded (96 bytes an IPv4 slot, 120 an IPv6 one: 6 MB and 2 MB at
    /// most); directions beyond them go to the hash maps.
    static func slotCounts(capacity: UInt32) -> (v4: UInt32, v6: UInt32) {
        (min(capacity, 65_536), min(capacity, 16_384))
    }

    /// How long a slot taken out of the index rests before it is written again: far beyond the
    /// program's run time.
    static let graceNanoseconds: UInt64 = 1_000_000_000

    /// One family's index and slots, as mapped.
    private struct Family {
        let index: (pointer: UnsafeMutableRawPointer, length: Int, stride: Int)
        let slots: (pointer: UnsafeMutableRawPointer, length: Int, stride: Int)
        var allocator: XDPSlotAllocator

        /// The pair of slot numbers (each plus one, 0: none; the low half first) at `position`.
        func pair(at position: Int) -> UnsafeMutablePointer<UInt64> {
            (index.pointer + position * index.stride).assumingMemoryBound(to: UInt64.self)
        }
    }

    /// IPv4, then IPv6.
    private var families: [Family]
    /// Where each placed direction is, by key: its slot, its position and which half of the
    /// position's pair (0: low, 1: high) names the slot.
    private var placed: [[UInt8]: (slot: Int, position: Int, half: Int)] = [:]

    /// Maps the loaded `object`'s index and slot arrays (sized `slotCounts` before loading).
    init(object: BPFObject, slotCounts: (v4: UInt32, v6: UInt32), graceNanoseconds: UInt64 = XDPFastPath.graceNanoseconds) throws {
        var mapped: [Family] = []
        do {
            for (index, slots, count, v4) in [
                (XDPStreamEntry.index4, XDPStreamEntry.slots4, slotCounts.v4, true),
                (XDPStreamEntry.index6, XDPStreamEntry.slots6, slotCounts.v6, false),
            ] {
                let indexRegion = try BPFMap(fd: try object.map(index)).mapShared(entries: XDPStreamEntry.indexSize, valueSize: 8)
                do {
                    let slotRegion = try BPFMap(fd: try object.map(slots)).mapShared(entries: Int(count), valueSize: XDPStreamEntry.slotSize(v4: v4))
                    mapped.append(Family(index: indexRegion, slots: slotRegion,
                                         allocator: XDPSlotAllocator(count: Int(count), graceNanoseconds: graceNanoseconds)))
                } catch {
                    munmap(indexRegion.pointer, indexRegion.length)
                    throw error
                }
            }
        } catch {
            for family in mapped { Self.unmap(family) }
            throw error
        }
        families = mapped
    }

    /// Places `entry` (or re-points it when its key is placed: a new slot, then its half of the
    /// position switched to it, then the old slot let go). False when two other directions hold
    /// its position or no slot is free; nothing changed then.
    func place(_ entry: XDPStreamEntry, now: UInt64) -> Bool {
        guard !families.isEmpty else { return false }   // closed
        let key = entry.key, f = Self.family(of: key)
        let old = placed[key]
        let position = old?.position ?? entry.indexPosition
        let pair = families[f].pair(at: position)
        let half: Int
        if let old {
            half = old.half
        } else if let free = [0, 1].first(where: { Self.slotNumber(in: pair.pointee, half: $0) == 0 }) {
            half = free
        } else {
            return false
        }
        guard let slot = families[f].allocator.take(now: now) else { return false }
        let bytes = entry.slot
        precondition(bytes.count <= families[f].slots.stride, "an XDP slot is \(families[f].slots.stride) bytes")
        bytes.withUnsafeBytes { (families[f].slots.pointer + slot * families[f].slots.stride).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        // Only this object writes the pair (under its owner's lock), so reading it back is safe.
        ipt_bpf_store_release_u64(pair, Self.replacing(half: half, of: pair.pointee, with: UInt32(slot + 1)))
        if let old { families[f].allocator.release(old.slot, now: now) }
        placed[key] = (slot, position, half)
        return true
    }

    /// The slot number (plus one) in `half` of `pair`.
    static func slotNumber(in pair: UInt64, half: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: pair >> (32 * UInt64(half)))
    }

    /// `pair` with `half` set to `number`, the other half kept.
    static func replacing(half: Int, of pair: UInt64, with number: UInt32) -> UInt64 {
        let shift = 32 * UInt64(half)
        return (pair & ~(0xFFFF_FFFF << shift)) | (UInt64(number) << shift)
    }

    /// Takes the direction with `key` out of the index; false when it was not there.
    @discardableResult
    func remove(_ key: [UInt8], now: UInt64) -> Bool {
        guard let location = placed.removeValue(forKey: key) else { return false }
        let f = Self.family(of: key)
        let pair = families[f].pair(at: location.position)
        ipt_bpf_store_release_u64(pair, Self.replacing(half: location.half, of: pair.pointee, with: 0))
        families[f].allocator.release(location.slot, now: now)
        return true
    }

    /// True when the direction with `key` is in the index.
    func holds(_ key: [UInt8]) -> Bool { placed[key] != nil }

    /// Directions in the index now.
    var count: Int { placed.count }

    /// What the program forwarded for the direction with `key`, read from its slot; nil when it
    /// is not in the index.
    func counter(_ key: [UInt8]) -> KernelCounter? {
        guard let location = placed[key] else { return nil }
        let f = Self.family(of: key)
        let family = families[f]
        let target = family.slots.pointer + location.slot * family.slots.stride + XDPStreamEntry.targetOffsetInSlot(v4: f == 0)
        let packets = (target + XDPStreamEntry.packetsOffset).assumingMemoryBound(to: UInt64.self)
        return KernelCounter(packets: ipt_bpf_load_u64(packets), bytes: ipt_bpf_load_u64(packets + 1))
    }

    /// Unmaps the arrays; nothing may be called after.
    func close() {
        for family in families { Self.unmap(family) }
        families = []
        placed = [:]
    }

    /// The family (index into `families`: 0 IPv4, 1 IPv6) of a direction's key.
    private static func family(of key: [UInt8]) -> Int { key.count == XDPStreamEntry.keySize4 ? 0 : 1 }

    private static func unmap(_ family: Family) {
        munmap(family.index.pointer, family.index.length)
        munmap(family.slots.pointer, family.slots.length)
    }
}
