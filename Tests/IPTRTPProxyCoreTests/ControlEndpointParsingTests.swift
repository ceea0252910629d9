import Testing
@testable import IPTRTPProxyCore

/// The byte-wise endpoint parser and field splitter of the control protocol (rewritten for speed):
/// what they accept and refuse.
@Suite("control protocol: endpoints and field keys")
struct ControlEndpointParsingTests {
    @Test("endpoints: IPv4 ADDRESS:PORT and [IPv6]:PORT parse", arguments: [
        ("192.0.2.1:4000", "192.0.2.1:4000"), ("0.0.0.0:0", "0.0.0.0:0"), ("192.0.2.1:65535", "192.0.2.1:65535"),
        ("192.0.2.1:004000", "192.0.2.1:4000"), ("[2001:db8::1]:5000", "[2001:db8::1]:5000"), ("[::]:9", "[::]:9"),
    ])
    func accepted(_ text: String, _ shown: String) {
        #expect(ControlProtocol.parseEndpoint(text)?.description == shown)
    }

    @Test("endpoints: anything else is refused", arguments: [
        "", "192.0.2.1", "192.0.2.1:", ":4000", "192.0.2.1:65536", "192.0.2.1:99999999999999999999", "192.0.2.1:+80",
        "192.0.2.1:8 0", "192.0.2.1:80a", "2001:db8::1:5000", "[2001:db8::1]5000", "[2001:db8::1]:", "[192.0.2.1]:80",
        "[2001:db8::1:5000", "[]:5", "host:80", "192.0.2.1:٣",
    ])
    func refused(_ text: String) {
        #expect(ControlProtocol.parseEndpoint(text) == nil)
    }

    @Test("field keys: a side prefix, a known name, each once", arguments: [
        ("a.rtp=192.0.2.1:4000 a.rtp=192.0.2.1:4002", "field 'a.rtp' given twice"),
        ("c.rtp=192.0.2.1:4000", "field 'c.rtp' must start with a. or b."),
        ("a.=1", "field 'a.' must start with a. or b."),
        ("rtp=192.0.2.1:4000", "field 'rtp' must start with a. or b."),
        ("ab.rtp=192.0.2.1:4000", "field 'ab.rtp' must start with a. or b."),
        ("a.rtpx=1", "unknown field 'a.rtpx'"),
        ("a.rtp", "field 'a.rtp' is not KEY=VALUE"),
    ])
    func badFields(_ fields: String, _ message: String) {
        do {
            _ = try ControlProtocol.decodeRequest(Array("iptrtp/2 9 alloc pub \(fields)".utf8))
            Issue.record("'\(fields)' was accepted")
        } catch let e as ControlProtocolError {
            #expect(e.id == "9")
            #expect(e.message.hasPrefix(message), "\(e.message)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("a value may hold '=' and '.': only the first '=' and the first '.' of the key split")
    func splitPoints() throws {
        let r = try ControlProtocol.decodeRequest(Array("iptrtp/2 9 alloc pub a.signal=192.0.2.7 b.ice=abcd:abcdefghijklmnopqrstuv".utf8))
        guard case .alloc(_, let request) = r.command else { Issue.record("not an alloc"); return }
        #expect(request[.a].signal == IPAddress("192.0.2.7"))
        #expect(request[.b].ice != nil)
    }
}
