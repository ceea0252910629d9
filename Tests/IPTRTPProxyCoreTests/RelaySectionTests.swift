import Testing
@testable import IPTRTPProxyCore

@Suite("cfg file: the [relay] section")
struct RelaySectionTests {
    private let file = """
        [switchboard:pub]
        addr-a = 127.0.0.1
        port-a = 40000
        [relay]
        redis = redis://10.0.0.9:6379/2   # the shared session store
        [other:tool]
        redis = ignored
        """

    @Test("the section's keys are read; the switchboard parser still reads the switchboards")
    func reads() throws {
        #expect(try RelaySection.values(in: file, fileName: "f") == ["redis": "redis://10.0.0.9:6379/2"])
        #expect(try SwitchboardConfigParser.parse(file, fileName: "f").all.map(\.name) == ["pub"])
        #expect(try RelaySection.values(in: "[switchboard:x]\naddr-a = 127.0.0.1\nport-a = 1000\n", fileName: "f").isEmpty)
    }

    @Test("unknown keys, repeated keys and empty values are refused with the line", arguments: [
        "[relay]\nredis-url = redis://x\n", "[relay]\nredis = redis://a\nredis = redis://b\n", "[relay]\nredis =\n", "[relay]\njust text\n",
    ])
    func refused(_ text: String) {
        #expect(throws: ConfigError.self) { try RelaySection.values(in: text, fileName: "f") }
    }
}
