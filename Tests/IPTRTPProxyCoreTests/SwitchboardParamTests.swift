import Testing
@testable import IPTRTPProxyCore

@Suite("The switchboard modparam sets learning and ringing values")
struct SwitchboardParamTests {
    let cfg = "[switchboard:pub]\naddr-a = 10.0.0.1\nport-a = 30000\n[switchboard:lan]\naddr-a = 10.0.0.2\nport-a = 30000\n"

    @Test("the documentation's example applies to every switchboard")
    func docExample() throws {
        let set = try testSwitchboards(cfg, params: ["name=*;learning-timeout-a=10;learning-timeout-b=10;ringing-timeout=90"])
        for sw in set.all {
            #expect(sw.learning(.a).learningTimeout == 10 && sw.learning(.b).learningTimeout == 10)
            #expect(sw.ringingTimeout == 90)
        }
    }

    @Test("a value set for one side only is copied to the other after a named line")
    func oneSideCopied() throws {
        let set = try testSwitchboards(cfg, params: ["name=PUB; always-learn-b = 1 ; learning-timeout-a=7"])
        let pub = set.named("pub")!
        #expect(pub.learning(.a) == LearningDefaults(learningTimeout: 7, alwaysLearn: true))
        #expect(pub.learning(.b) == LearningDefaults(learningTimeout: 7, alwaysLearn: true))
        #expect(set.named("lan")!.learning(.a) == LearningDefaults())
    }

    @Test("zero learning and ringing timeouts are ignored")
    func zerosIgnored() throws {
        let set = try testSwitchboards(cfg, params: ["name=*;learning-timeout-a=0;ringing-timeout=0"])
        #expect(set.named("pub")!.learning(.a).learningTimeout == nil)
        #expect(set.named("pub")!.ringingTimeout == 60)
    }

    @Test("max-stream-pps and max-stream-burst set one switchboard's rate cap; 0 leaves it")
    func streamLimits() throws {
        let set = try testSwitchboards(cfg, params: ["name=pub;max-stream-pps=8000;max-stream-burst=900", "name=*;max-stream-pps=0"])
        #expect(set.named("pub")!.maxStreamPPS == 8000 && set.named("pub")!.maxStreamBurst == 900)
        #expect(set.named("lan")!.maxStreamPPS == nil && set.named("lan")!.maxStreamBurst == nil)
    }

    @Test("errors say what to write instead", arguments: [
        ("learning-timeout-a=1", "switchboard modparam 'learning-timeout-a=1': must start with name=SWITCHBOARD or name=*"),
        ("name=nope", "switchboard modparam 'name=nope': unknown switchboard 'nope' (the cfg file declares: lan, pub)"),
        ("name=*;foo=1", "switchboard modparam 'name=*;foo=1': unknown parameter 'foo' (expected learning-timeout-a/-b, always-learn-a/-b, ringing-timeout, max-stream-pps, max-stream-burst, max-call-sessions, ice)"),
        ("name=*;max-stream-pps=100000001", "switchboard modparam 'name=*;max-stream-pps=100000001': 'max-stream-pps' must be packets, at most 100000000, not '100000001'"),
        ("name=*;ringing-timeout=ten", "switchboard modparam 'name=*;ringing-timeout=ten': 'ringing-timeout' takes an unsigned number, not 'ten'"),
        ("name=*;ringing", "switchboard modparam 'name=*;ringing': 'ringing' is not name=value"),
    ])
    func errors(input: String, message: String) throws {
        var applier = SwitchboardParamApplier(try SwitchboardConfigParser.parse(cfg, fileName: "f"))
        do {
            try applier.apply(input)
            Issue.record("expected an error")
        } catch let e as ConfigError {
            #expect(e.description == message)
        }
    }
}
