import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// The embedded relay's /metrics server (no swift-nio inside Kamailio) over real sockets: paths,
/// methods, and that a slow client or many clients delay no scrape.
@Suite("embedded relay metrics endpoint")
struct PollingMetricsEndpointTests {
    struct Served {
        let harness: RelayHarness
        let endpoint: PollingMetricsEndpoint
        let address: Endpoint

        init(_ octet: Int, limits: MetricsEndpoint.Limits = MetricsEndpoint.Limits(maxConnections: 64)) throws {
            harness = try RelayHarness(gateA: "127.0.\(octet).1", gateB: "127.0.\(octet).2", port: UInt16(33000 + 10 * octet))
            address = Endpoint(address: IPAddress("127.0.\(octet).1")!, port: UInt16(39000 + octet))
            endpoint = PollingMetricsEndpoint(engine: harness.engine, address: address, limits: limits)
            try endpoint.start()
        }

        func stop() {
            endpoint.stop()
            harness.engine.stop()
        }
    }

    typealias Client = MetricsEndpointTests

    @Test("GET and HEAD of /metrics; another path 404, another method 405; garbage is closed")
    func pathsAndMethods() throws {
        let s = try Served(80)
        defer { s.stop() }
        let get = try Client.exchange(s.address, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(get.hasPrefix("HTTP/1.0 200 OK") && get.contains("iptrtpproxy_sessions_active 0"))
        let head = try Client.exchange(s.address, "HEAD /metrics HTTP/1.0\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.0 200 OK") && !head.contains("iptrtpproxy_"))
        #expect(try Client.exchange(s.address, "GET /other HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 404"))
        #expect(try Client.exchange(s.address, "POST /metrics HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 405"))
        _ = try Client.exchange(s.address, String(repeating: "x", count: 9000), within: 2000)
        #expect(try Client.exchange(s.address, "GET / HTTP/1.0\n\n").hasPrefix("HTTP/1.0 200 OK"))
    }

    @Test("a client sending one byte a second delays no scrape and is dropped at the request timeout")
    func slowClient() throws {
        let s = try Served(81, limits: MetricsEndpoint.Limits(requestTimeout: 2500, maxConnections: 64))
        defer { s.stop() }
        try Client.expectSlowClientDelaysNoScrape(s.address)
    }

    @Test("64 connections at once are all served; over the cap the extra ones are closed")
    func manyAndCap() throws {
        let s = try Served(82)
        try Client.expectAllScrapesServed(s.address, connections: 64)
        s.stop()
        let capped = try Served(83, limits: MetricsEndpoint.Limits(maxConnections: 2))
        defer { capped.stop() }
        try Client.expectCapRefusesExtra(capped.address, cap: 2)
    }
}
