import Testing
@testable import IPTRTPProxyCore

/// `ice=remove` (the default): relayed media lose their candidates and ICE attributes, so that
/// browsers and ICE phones send to the relay's address instead of running ICE around it, and their
/// LAN addresses do not reach the other side. `ice=keep` leaves them.
@Suite("ICE attributes of relayed media")
struct ICERemovalTests {
    /// A browser-like offer: session-level ice-options, per media ufrag/pwd, candidates with LAN
    /// and server-reflexive addresses, end-of-candidates; a BFCP media the relay does not carry.
    func offer(bfcp: Bool = false) -> [UInt8] {
        var text = "v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nt=0 0\na=ice-options:trickle\na=group:BUNDLE 0\n"
            + "m=audio 49170 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 192.0.2.10\na=mid:0\na=ice-ufrag:F7gI\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\n"
            + "a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:EB:1E:BA:D9:16:75\n"
            + "a=candidate:1 1 UDP 2130706431 10.0.1.1 49170 typ host\n"
            + "a=candidate:2 1 UDP 1694498815 192.0.2.10 49170 typ srflx raddr 10.0.1.1 rport 49170\n"
            + "a=end-of-candidates\na=rtpmap:111 opus/48000/2\n"
        if bfcp { text += "m=application 5070 TCP/BFCP *\nc=IN IP4 192.0.2.10\na=candidate:3 1 TCP 1 10.0.1.1 9 typ host\n" }
        return crlf(text)
    }

    func rewritten(_ body: [UInt8], params: [String] = []) throws -> String {
        text(try allocFromA(body, params: params).0.body) ?? ""
    }

    @Test("by default the relayed media's ICE lines and the session's go; DTLS and everything else stays")
    func removed() throws {
        let r = try allocFromA(offer()).0
        #expect(r.succeeded)
        let out = text(r.body) ?? ""
        for gone in ["a=candidate", "a=ice-ufrag", "a=ice-pwd", "a=end-of-candidates", "a=ice-options", "10.0.1.1"] {
            #expect(!out.contains(gone), "\(gone) left in\n\(out)")
        }
        for kept in ["a=fingerprint:sha-256", "a=rtpmap:111 opus/48000/2", "a=mid:0", "a=group:BUNDLE 0", "c=IN IP4 203.0.113.1"] {
            #expect(out.contains(kept), "\(kept) missing in\n\(out)")
        }
        #expect(!out.contains("\r\n\r\n"), "no blank line is left")
        // The edits the Kamailio glue puts as lumps give the same body.
        #expect(r.edits.map { BodyEdit.apply($0, to: offer()) } == r.body)
    }

    @Test("ice=keep (cfg key or modparam) leaves every ICE line")
    func kept() throws {
        let out = try rewritten(offer(), params: ["name=pub;ice=keep"])
        #expect(out.contains("a=candidate:1 1 UDP 2130706431 10.0.1.1 49170 typ host"))
        #expect(out.contains("a=ice-options:trickle") && out.contains("a=end-of-candidates"))
        let fromFile = try testSwitchboards(testConfig + "\nice = keep\n")
        #expect(fromFile.named("pub")?.ice == .keep)
    }

    @Test("a media the relay does not carry keeps its candidates, and the session keeps its ICE options")
    func unrelayedKeeps() throws {
        let out = try rewritten(offer(bfcp: true))
        #expect(out.contains("a=candidate:3 1 TCP 1 10.0.1.1 9 typ host"))
        #expect(out.contains("a=ice-options:trickle"))
        #expect(!out.contains("a=candidate:1 "))
    }

    @Test("ice takes remove, keep or force; anything else is refused with the reason",
          arguments: ["ice = maybe", "ice = 1", "ice = forced"])
    func refused(_ line: String) {
        #expect(throws: ConfigError.self) { try testSwitchboards(testConfig + "\n" + line + "\n") }
        #expect(throws: ConfigError.self) { try testSwitchboards(params: ["name=pub;" + line.replacingOccurrences(of: " ", with: "")]) }
    }

    @Test("a relay's info carries the setting to the module")
    func infoCarriesIt() throws {
        var sw = try testSwitchboards().all[0]
        sw.ice = .keep
        let info = RelayInfo(relayVersion: "t", uptime: 1, workers: 1, offload: "none", journal: nil,
                             switchboards: [.init(switchboard: sw, sessionsInUse: 0)])
        #expect(try RelayInfo(json: info.json).switchboards[0].switchboard.ice == .keep)
        // A relay of an earlier version says nothing about ICE: the default, not an error.
        let older = info.json.replacingOccurrences(of: #","ice":"keep""#, with: "")
        #expect(older != info.json)
        #expect(try RelayInfo(json: older).switchboards[0].switchboard.ice == .remove)
    }
}
