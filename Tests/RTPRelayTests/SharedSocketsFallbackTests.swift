import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Glibc
import Logging
import Synchronization
import Testing
@testable import RTPRelay

/// Shared-socket mode must never cost a relay its media: when the kernel refuses the steering, or
/// the gates cannot be served that way, the relay says so in one line and binds a socket per port
/// as without the option. (The mode itself, which needs root and a network namespace, is tested
/// end to end by Tests/e2e/52-shared-sockets.sh.)
@Suite("shared sockets: fallback to a socket per port")
struct SharedSocketsFallbackTests {
    /// A steering the kernel refuses, as it does without CAP_BPF: `start` throws EPERM. Counts
    /// its calls, so a test can tell whether the engine asked at all.
    final class RefusedSteering: PortSteering {
        let name = "refused"
        let starts = Mutex(0)
        let stops = Mutex(0)
        func start(ranges: [GatePortRange], sockets: [Int32]) throws {
            starts.withLock { $0 += 1 }
            throw SystemError("bpf_link_create", code: EPERM)
        }
        func stop() { stops.withLock { $0 += 1 } }
    }

    func relaysPerPort(_ h: RelayHarness, _ prefix: String, port: UInt16) throws {
        let alice = try UDPPeer("\(prefix).10", port + 1000), bob = try UDPPeer("\(prefix).20", port + 2000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "\(prefix).10", port + 1000), sideRequest(.b, "\(prefix).20", port + 2000)))
        // The session's own socket holds its port: a second bind of it fails.
        #expect(throws: (any Error).self) {
            try Socket.udp(boundTo: Endpoint(address: IPAddress("\(prefix).1")!, port: s.rtpPorts[0]))
        }
        alice.send(payload("fallback"), to: "\(prefix).1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("fallback"))
    }

    @Test("a refused steering: one error line, sockets per port, media flows")
    func refused() throws {
        let capture = CapturingLogHandler()
        let steering = RefusedSteering()
        let h = try RelayHarness(
            gateA: "127.0.61.1", gateB: "127.0.61.2", port: 36400, logger: Logger(label: "test") { _ in capture },
            sharedSockets: steering)
        let lines = capture.lines.withLock { $0 }.filter { $0.hasPrefix("shared sockets") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("shared sockets (refused):") == true && lines.first?.contains("using a socket per port") == true)
        #expect(steering.starts.withLock { $0 } == 1)
        try relaysPerPort(h, "127.0.61", port: 36400)
        h.engine.stop()
        #expect(steering.stops.withLock { $0 } == 0)  // never started, never stopped
    }

    @Test("a gate on the unspecified address: one error line naming it, the steering is not asked")
    func unspecifiedGate() throws {
        let capture = CapturingLogHandler()
        let steering = RefusedSteering()
        let h = try RelayHarness(
            gateA: "0.0.0.0", gateB: "127.0.62.2", port: 36500, logger: Logger(label: "test") { _ in capture },
            sharedSockets: steering)
        let lines = capture.lines.withLock { $0 }.filter { $0.hasPrefix("shared sockets") }
        #expect(lines.count == 1 && lines.first?.contains("unspecified address") == true)
        #expect(steering.starts.withLock { $0 } == 0)
        h.engine.stop()
    }
}
