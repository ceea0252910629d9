import Foundation
import IPTRTPProxyCore
import Testing
import XTRTPProxyPlane

/// The five script functions over the xt_RTPPROXY binding, checked against the calls the library
/// double records (spec iptrtpproxy-v1.md §1, §3). Serialized: the double is one library per process.
@Suite("xt_RTPPROXY plane over the library double", .serialized)
struct XTRTPProxyPlaneDoubleTests {
    let sw = "sw=192.0.2.10:40000,198.51.100.10:41000"
    let zeroSide = "{learn=0 rtp=-/0/0.0.0.0:0 rtcp=-/0/0.0.0.0:0}"

    /// A caller's offer: audio and video on one address.
    let offer = crlf("""
        v=0
        o=alice 1 1 IN IP4 203.0.113.2
        s=-
        c=IN IP4 203.0.113.2
        t=0 0
        m=audio 4000 RTP/AVP 0
        m=video 4002 RTP/AVP 31

        """)

    /// The callee's answer, video refused.
    let answer = crlf("""
        v=0
        o=bob 1 1 IN IP4 198.51.100.2
        s=-
        c=IN IP4 198.51.100.2
        t=0 0
        m=audio 6000 RTP/AVP 0
        m=video 0 RTP/AVP 31

        """)

    func functions(_ log: inout String, fail: String? = nil, kernelPorts: String? = nil) throws -> ScriptFunctions {
        log = try LibraryDouble.configure(fail: fail, kernelPorts: kernelPorts)
        let plane = try XTRTPProxyMediaPlane(switchboards: try testSwitchboards(), libraryPath: try LibraryDouble.path())
        return ScriptFunctions(switchboards: plane.switchboards, plane: plane)
    }

    @Test("opening the double looks every switchboard up, with the OUT_SWITCHBOARD flag; releasing the plane closes it")
    func openLooksUpSwitchboards() throws {
        var log = ""
        _ = try functions(&log)
        #expect(LibraryDouble.calls(log) == [
            "open",
            "get_switchboards \(sw) flags=OUT_SWITCHBOARD -> ports=40000,41000",
            "release_switchboards",
            "close",
        ])
    }

    @Test("alloc over the double: one alloc_session per media, the SDP side with SESSION_ADDR and its learning timeout, RTCP at port+1")
    func allocFromGateA() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        let result = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: "application/sdp", selects: &selects)
        #expect(result.succeeded)
        let a = "A{learn=0 rtp=ADDR|LEARNING_TIMEOUT/10/203.0.113.2:4000 rtcp=ADDR|LEARNING_TIMEOUT/10/203.0.113.2:4001}"
        let v = "A{learn=0 rtp=ADDR|LEARNING_TIMEOUT/10/203.0.113.2:4002 rtcp=ADDR|LEARNING_TIMEOUT/10/203.0.113.2:4003}"
        #expect(Array(LibraryDouble.calls(log).dropFirst(3)) == [
            "alloc_session \(sw) \(a) B\(zeroSide) -> 0/1000",
            "alloc_session \(sw) \(v) B\(zeroSide) -> 1/1001",
        ])
        #expect(selects.sessionIDs == "pub:0/1000,1/1001")
        // The proxy ports are the double's gate-B ports of each session.
        #expect(text(result.body).contains("c=IN IP4 198.51.100.10\r\n"))
        #expect(text(result.body).contains("m=audio 41000 RTP/AVP 0\r\n"))
        #expect(text(result.body).contains("m=video 41002 RTP/AVP 31\r\n"))
    }

    @Test("alloc over the double with flag bit 1: the ringing timeout becomes the learning timeout")
    func allocRinging() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        let one = crlf("v=0\nc=IN IP4 198.51.100.2\nm=audio 6000 RTP/AVP 0\n")
        #expect(f.alloc(flags: ScriptFlags(2), switchboard: "pub", body: one, contentType: nil, selects: &selects).succeeded)
        #expect(LibraryDouble.calls(log).last ==
            "alloc_session \(sw) A\(zeroSide) B{learn=1 rtp=ADDR|LEARNING_TIMEOUT/90/198.51.100.2:6000 rtcp=ADDR|LEARNING_TIMEOUT/90/198.51.100.2:6001} -> 0/1000")
    }

    @Test("alloc over the double from a side without a learning timeout: SESSION_ADDR only, always_learn from the side's default")
    func allocNoTimeout() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        let one = crlf("v=0\nc=IN IP4 198.51.100.2\nm=audio 6000 RTP/AVP 0\n")
        #expect(f.alloc(flags: ScriptFlags(0), switchboard: "pub", body: one, contentType: nil, selects: &selects).succeeded)
        #expect(LibraryDouble.calls(log).last ==
            "alloc_session \(sw) A\(zeroSide) B{learn=1 rtp=ADDR/0/198.51.100.2:6000 rtcp=ADDR/0/198.51.100.2:6001} -> 0/1000")
    }

    @Test("alloc over the double: media on the same address and port share one session")
    func allocShares() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        let twice = crlf("v=0\nc=IN IP4 203.0.113.2\nm=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 8\n")
        #expect(f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: twice, contentType: nil, selects: &selects).succeeded)
        #expect(LibraryDouble.calls(log).filter { $0.hasPrefix("alloc_session") }.count == 1)
        #expect(selects.sessionIDs == "pub:0/1000,0/1000")
    }

    @Test("a failed alloc_session in the double rolls back: the sessions allocated before are deleted")
    func allocRollback() throws {
        var log = ""
        let f = try functions(&log, fail: "alloc_session#2")
        var selects = SelectValues()
        let result = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: nil, selects: &selects)
        #expect(!result.succeeded)
        #expect(result.body == nil)
        #expect(result.error?.contains("double: no free session") == true)
        let calls = LibraryDouble.calls(log).dropFirst(3)
        #expect(calls.count == 3)
        #expect(calls.dropFirst().first?.hasSuffix("-> error") == true)
        #expect(calls.last == "delete_session \(sw) id=0-0/1000")
        #expect(selects.sessionIDs == nil)
    }

    @Test("update over the double: the answer's side updates [id,id] with its created stamp; a refused media deletes its session")
    func updateAnswer() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        _ = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: nil, selects: &selects)
        let result = f.update(flags: ScriptFlags(0), sessionIDs: selects.sessionIDs!, body: answer, contentType: nil, selects: &selects)
        #expect(result.succeeded)
        #expect(Array(LibraryDouble.calls(log).dropFirst(5)) == [
            "update_session \(sw) id=0-0/1000 A\(zeroSide) B{learn=1 rtp=ADDR/0/198.51.100.2:6000 rtcp=ADDR/0/198.51.100.2:6001}",
            "delete_session \(sw) id=1-1/1001",
        ])
        #expect(selects.sessionIDs == "pub:0/1000,")
        #expect(text(result.body).contains("c=IN IP4 192.0.2.10\r\n"))
        #expect(text(result.body).contains("m=audio 40000 RTP/AVP 0\r\n"))
    }

    @Test("adjust_timeout over the double: an update of the SDP side without SESSION_ADDR, learning timeout only")
    func adjustTimeout() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        #expect(f.adjustTimeout(flags: ScriptFlags(1), sessionIDs: "pub:0/1000,0/1000,2/1002", selects: &selects).succeeded)
        #expect(f.adjustTimeout(flags: ScriptFlags(3), sessionIDs: "pub:0/1000", selects: &selects).succeeded)
        #expect(Array(LibraryDouble.calls(log).dropFirst(3)) == [
            "update_session \(sw) id=0-0/1000 A{learn=0 rtp=LEARNING_TIMEOUT/10/0.0.0.0:0 rtcp=LEARNING_TIMEOUT/10/0.0.0.0:0} B\(zeroSide)",
            "update_session \(sw) id=2-2/1002 A{learn=0 rtp=LEARNING_TIMEOUT/10/0.0.0.0:0 rtcp=LEARNING_TIMEOUT/10/0.0.0.0:0} B\(zeroSide)",
            "update_session \(sw) id=0-0/1000 A{learn=0 rtp=LEARNING_TIMEOUT/90/0.0.0.0:0 rtcp=LEARNING_TIMEOUT/90/0.0.0.0:0} B\(zeroSide)",
        ])
    }

    @Test("adjust_timeout over the double for a side with no default timeout: no flag at all")
    func adjustTimeoutNoDefault() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        #expect(f.adjustTimeout(flags: ScriptFlags(0), sessionIDs: "pub:4/1004", selects: &selects).succeeded)
        #expect(LibraryDouble.calls(log).last == "update_session \(sw) id=4-4/1004 A\(zeroSide) B{learn=1 rtp=-/0/0.0.0.0:0 rtcp=-/0/0.0.0.0:0}")
    }

    @Test("delete over the double: consecutive ids in one range with the first id's created stamp")
    func deleteRanges() throws {
        var log = ""
        let f = try functions(&log)
        var selects = SelectValues()
        #expect(f.delete(sessionIDs: "pub:0/1000,1/1001,,1/1001,3/1003,4/1004,7/1007", selects: &selects).succeeded)
        #expect(Array(LibraryDouble.calls(log).dropFirst(3)) == [
            "delete_session \(sw) id=0-1/1000",
            "delete_session \(sw) id=3-4/1003",
            "delete_session \(sw) id=7-7/1007",
        ])
    }

    @Test("a failed delete_session in the double is a warning, not a failure")
    func deleteFailureWarns() throws {
        var log = ""
        let f = try functions(&log, fail: "delete_session#1")
        var selects = SelectValues()
        let result = f.delete(sessionIDs: "pub:0/1000,,5/1005", selects: &selects)
        #expect(result.succeeded)
        #expect(result.warnings.count == 1)
        #expect(LibraryDouble.calls(log).last == "delete_session \(sw) id=5-5/1005")
    }

    @Test("when the double's kernel has other base ports, the plane uses them")
    func kernelPorts() throws {
        var log = ""
        let f = try functions(&log, kernelPorts: "50000,51000")
        var selects = SelectValues()
        let result = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: nil, selects: &selects)
        #expect(LibraryDouble.calls(log)[3].hasPrefix("alloc_session sw=192.0.2.10:50000,198.51.100.10:51000 "))
        #expect(text(result.body).contains("m=audio 51000 RTP/AVP 0\r\n"))
        #expect(f.switchboards.named("pub")?.gateB.basePort == 51000)
    }

    @Test("opening fails when the double's kernel lacks a switchboard")
    func missingSwitchboard() throws {
        _ = try LibraryDouble.configure(missing: true)
        let library = try LibraryDouble.path()
        #expect {
            _ = try XTRTPProxyMediaPlane(switchboards: try testSwitchboards(), libraryPath: library)
        } throws: { error in
            "\(error)".contains("switchboard 'pub' (192.0.2.10:40000 / 198.51.100.10:41000) not found in iptables")
        }
    }

    @Test("opening fails cleanly when the library is not there")
    func missingLibrary() throws {
        #expect {
            _ = try XTRTPProxyMediaPlane(switchboards: try testSwitchboards(), libraryPath: "/nonexistent/libipt_RTPPROXY.so")
        } throws: { error in
            "\(error)".hasPrefix("xt_RTPPROXY: /nonexistent/libipt_RTPPROXY.so: cannot open shared object file")
        }
    }
}
