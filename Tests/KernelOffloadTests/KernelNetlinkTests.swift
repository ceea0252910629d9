import CIPTRTPProxyNFT
import Glibc
import IPTRTPProxyCore
import Synchronization
import Testing
@testable import KernelOffload

/// The offload against the real kernel, in a network namespace of its own (root only): the
/// transaction and its acks, refusals with the kernel's errno, and the counter dump over many
/// elements. No route lookups: elements are added with fixed routes.
@Suite("nf_tables over netlink (root)", .enabled(if: getuid() == 0, "needs CAP_NET_ADMIN"), .serialized)
struct KernelNetlinkTests {
    static let table = "ipttest"

    func ep(_ a: String, _ p: UInt16) -> Endpoint { Endpoint(address: IPAddress(a)!, port: p) }

    func stream(_ n: Int) -> KernelStream {
        KernelStream(a: KernelLeg(relay: ep("192.0.2.10", UInt16(30000 + 4 * n)), peer: ep("203.0.113.2", UInt16(4000 + 2 * n))),
                     b: KernelLeg(relay: ep("192.0.2.10", UInt16(30002 + 4 * n)), peer: ep("198.51.100.2", UInt16(6000 + 2 * n))))
    }

    func route(_ interface: UInt32) -> (a: KernelRoute, b: KernelRoute) {
        (KernelRoute(interface: interface, nextHop: IPAddress("203.0.113.2")!),
         KernelRoute(interface: interface, nextHop: IPAddress("198.51.100.1")!))
    }

    /// Adds `streams` in one transaction on `socket`, reached through interface `interface`.
    func add(_ streams: [KernelStream], interface: UInt32 = 1, on socket: NetlinkSocket, _ what: String) throws {
        var elements = StreamElements()
        for s in streams { try elements.addInstall(s, routes: route(interface)) }
        let tx = NetlinkTransaction(socket)
        for list in elements.lists { tx.addElements(Self.table, list) }
        try tx.commit(what)
    }

    @Test("a table is created, filled, refused with the kernel's errno, emptied and deleted")
    func lifecycle() throws {
        try inFreshNetworkNamespace {
            let offload = try NFTablesOffload(table: Self.table)
            try offload.start(interfaces: ["lo"])
            #expect(try offload.counters().isEmpty)

            let socket = try NetlinkSocket(family: NETLINK_NETFILTER, forTransactions: true)
            try add([stream(0)], on: socket, "add")
            #expect(try offload.counters() == [ep("192.0.2.10", 30000): KernelCounter(packets: 0, bytes: 0),
                                               ep("192.0.2.10", 30002): KernelCounter(packets: 0, bytes: 0)])

            // The same keys with other data: the whole transaction is refused, with EEXIST.
            let refused = #expect(throws: KernelOffloadError.self) {
                try add([stream(1), stream(0)], interface: 2, on: socket, "add again")
            }
            #expect(refused?.errno == EEXIST)
            #expect(refused?.message == "add again: File exists")
            #expect(try offload.counters().count == 2, "nothing of a refused transaction is applied")

            try offload.remove([stream(0)])
            #expect(try offload.counters().isEmpty)
            let missing = #expect(throws: KernelOffloadError.self) { try offload.remove([stream(0)]) }
            #expect(missing?.errno == ENOENT)

            try offload.stop()
            try offload.stop()
            let gone = #expect(throws: KernelOffloadError.self) { try offload.counters() }
            #expect(gone?.message == "kernel offload: read counters of \(Self.table): No such file or directory")
        }
    }

    @Test("a thousand streams in one transaction, counted in a dump of several messages, removed in batches")
    func manyStreams() throws {
        try inFreshNetworkNamespace {
            let offload = try NFTablesOffload(table: Self.table)
            try offload.start(interfaces: ["lo"])
            let socket = try NetlinkSocket(family: NETLINK_NETFILTER, forTransactions: true)
            let streams = (0..<1000).map(stream)
            try add(streams, on: socket, "add 1000")
            let counters = try offload.counters()
            #expect(counters.count == 2000)
            #expect(counters[ep("192.0.2.10", UInt16(30000 + 4 * 999))] == KernelCounter(packets: 0, bytes: 0))
            try offload.remove(streams)
            #expect(try offload.counters().isEmpty)
            try offload.stop()
        }
    }
}

/// Runs `body` on a thread of its own moved into a new network namespace (a namespace belongs to
/// a thread, not to the process): the host's nf_tables is never touched, and the namespace goes
/// away with the thread and its sockets. What `body` throws is rethrown here.
func inFreshNetworkNamespace(_ body: @escaping @Sendable () throws -> Void) throws {
    final class Job: Sendable {
        let body: @Sendable () throws -> Void
        let outcome = Mutex<Result<Void, any Error>>(.success(()))
        init(_ body: @escaping @Sendable () throws -> Void) { self.body = body }

        func run() {
            let result: Result<Void, any Error>
            if unshareNetwork() != 0 {
                result = .failure(KernelOffloadError.system("unshare(CLONE_NEWNET)", errno))
            } else {
                result = Result { try body() }
            }
            outcome.withLock { $0 = result }
        }
    }
    let job = Job(body)
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { raw in
        Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, Unmanaged.passRetained(job).toOpaque())
    guard started == 0 else { throw KernelOffloadError.system("pthread_create", started) }
    pthread_join(thread, nil)
    try job.outcome.withLock { $0 }.get()
}

/// unshare(CLONE_NEWNET) for the calling thread. Glibc declares unshare only for _GNU_SOURCE, which
/// Swift's Glibc module does not define, so it is looked up by name.
private func unshareNetwork() -> Int32 {
    typealias Unshare = @convention(c) (Int32) -> Int32
    let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET, <linux/sched.h>
    guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "unshare") else { return -1 }
    return unsafeBitCast(symbol, to: Unshare.self)(cloneNewNet)
}
