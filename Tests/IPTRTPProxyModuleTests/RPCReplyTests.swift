import Glibc
import IPTRTPProxyCore
import Testing
@testable import IPTRTPProxyModule

/// Records what the module hands to a host's RPC reply, as the Kamailio glue would receive it.
private final class RecordingReply {
    var calls: [String] = []
    var handles = 0
    /// The call (1-based) the host refuses, if any.
    var refuseAt: Int?

    func take(_ call: String) -> Bool {
        calls.append(call)
        return refuseAt != calls.count
    }

    static func of(_ context: UnsafeMutableRawPointer?) -> RecordingReply {
        Unmanaged<RecordingReply>.fromOpaque(context!).takeUnretainedValue()
    }

    static func where_(_ parent: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?) -> String {
        let p = parent.map { "#\(Int(bitPattern: $0))" } ?? "reply"
        return name.map { "\(p).\(String(cString: $0))" } ?? "\(p)[]"
    }

    let open: HostRPCOpen = { context, parent, name, array in
        let r = RecordingReply.of(context)
        r.handles += 1
        guard r.take("open \(array == 1 ? "array" : "object") \(RecordingReply.where_(parent, name)) -> #\(r.handles)") else { return nil }
        return UnsafeMutableRawPointer(bitPattern: r.handles)
    }
    let number: HostRPCNumber = { context, parent, name, value in
        RecordingReply.of(context).take("number \(RecordingReply.where_(parent, name)) = \(value)") ? 0 : -1
    }
    let text: HostRPCText = { context, parent, name, text, length in
        guard let text else { return RecordingReply.of(context).take("text \(RecordingReply.where_(parent, name)) = NULL") ? 0 : -1 }
        let bytes = UnsafeRawBufferPointer(start: text, count: Int(length))
        return RecordingReply.of(context).take("text \(RecordingReply.where_(parent, name)) = '\(String(decoding: bytes, as: UTF8.self))'") ? 0 : -1
    }

    func write(_ value: RPCValue) -> Int? {
        let context = Unmanaged.passUnretained(self).toOpaque()
        return withExtendedLifetime(self) {
            RPCReplyWriter(open: open, number: number, text: text, context: context).write(value)
        }
    }
}

@Suite("structured RPC answers")
struct RPCReplyTests {
    private func snapshot(id: Int, packetsA: UInt64 = 0) -> SessionSnapshot {
        func stream(_ port: UInt16, expected: String?, latched: String?, packets: UInt64) -> StreamSnapshot {
            StreamSnapshot(
                gatePort: port, expected: expected.flatMap(ControlProtocol.parseEndpoint), latched: latched.flatMap(ControlProtocol.parseEndpoint),
                learning: latched == nil, learningLeft: nil, offloaded: false,
                counters: StreamCounters(packets: packets, bytes: packets * 172, drops: [1, 0, 2, 0, 0]))
        }
        return SessionSnapshot(
            switchboard: "pub", handle: SessionHandle(id: id, created: 1_764_640_000), rtpPorts: [40000 + 2 * UInt16(id), 41000 + 2 * UInt16(id)],
            age: 75, idle: 2,
            sides: [
                SideSnapshot(side: .a, alwaysLearn: false, streams: [
                    stream(40000, expected: "192.0.2.10:4000", latched: "198.51.100.7:31000", packets: packetsA),
                    stream(40001, expected: "192.0.2.10:4001", latched: nil, packets: 3),
                ]),
                SideSnapshot(side: .b, alwaysLearn: false, streams: [
                    stream(41000, expected: nil, latched: nil, packets: 0),
                    stream(41001, expected: nil, latched: nil, packets: 0),
                ]),
            ])
    }

    @Test("a session is one record of named fields: id as the script sees it, ports, addresses, latches, counters, age")
    func sessionRecord() {
        let r = snapshot(id: 7, packetsA: 250).rpcRecord(host: nil)
        #expect(r == .object([
            RPCMember("id", .text("pub:7/1764640000")), RPCMember("switchboard", .text("pub")), RPCMember("host", .text("")),
            RPCMember("call-id", .text("")), RPCMember("from-tag", .text("")),
            RPCMember("port-a", .number(40014)), RPCMember("port-b", .number(41014)),
            RPCMember("address-a", .text("192.0.2.10:4000")), RPCMember("address-b", .text("")),
            RPCMember("latched-a", .text("198.51.100.7:31000")), RPCMember("latched-b", .text("")),
            RPCMember("packets-a", .number(253)), RPCMember("packets-b", .number(0)),
            RPCMember("bytes-a", .number(253 * 172)), RPCMember("bytes-b", .number(0)),
            RPCMember("drops-a", .number(6)), RPCMember("drops-b", .number(6)),
            RPCMember("age", .number(75)), RPCMember("idle", .number(2)),
        ]))
        #expect(snapshot(id: 7).rpcRecord(host: "m2")["id"] == .text("pub@m2:7/1764640000"))
        var named = snapshot(id: 7)
        named.call = CallIdentity(callID: "a84b4c76e66710@pc33.example.com", fromTag: "1928301774")
        #expect(named.rpcRecord(host: nil)["call-id"] == .text("a84b4c76e66710@pc33.example.com"))
        #expect(named.rpcRecord(host: nil)["from-tag"] == .text("1928301774"))
        #expect(snapshot(id: 7).rpcRecord(host: "m2")["host"] == .text("m2"))
    }

    @Test("a page over several relays: each relay gives the part of OFFSET..<OFFSET+LIMIT that falls on its sessions")
    func pageWindow() {
        // Relay 1 has 120 sessions, relay 2 has 80; the page is 100..<150.
        #expect(PageWindow(offset: 100, limit: 50, before: 0, count: 120).range == 100..<120)
        #expect(PageWindow(offset: 100, limit: 50, before: 120, count: 80).range == 0..<30)
        // Past the end, and LIMIT 0 (the total alone).
        #expect(PageWindow(offset: 500, limit: 50, before: 120, count: 80).range.isEmpty)
        #expect(PageWindow(offset: 0, limit: 0, before: 0, count: 80).range.isEmpty)
        // Pages of 100 over 2,000 sessions on two relays cover every one of them exactly once.
        var seen: [Int] = []
        for offset in stride(from: 0, to: 2_000, by: 100) {
            seen += Array(PageWindow(offset: offset, limit: 100, before: 0, count: 1_300).range)
            seen += PageWindow(offset: offset, limit: 100, before: 1_300, count: 700).range.map { 1_300 + $0 }
        }
        #expect(seen == Array(0..<2_000))
    }

    private func parameters(_ texts: String...) -> RPCParameters {
        RPCParameters(command: "iptrtpproxy.list", usage: ManagementReport.listUsage, texts: texts)
    }

    @Test("parameters: defaults, numbers given as text, * for every switchboard")
    func goodParameters() throws {
        #expect(try parameters().wholeNumber(1, "LIMIT", default: 100, in: 0...1000) == 100)
        #expect(try parameters("20", " 50 ").wholeNumber(1, "LIMIT", default: 100, in: 0...1000) == 50)
        #expect(try parameters("0", "10", "*").switchboard(2) == nil)
        #expect(try parameters("0", "10", "pub-2").switchboard(2) == "pub-2")
        try parameters("0", "10", "pub").expectAtMost(3)
    }

    @Test("bad parameters are a 400 fault that says what is wrong: negative, not a number, too large, too many, not text, not a name")
    func badParameters() {
        func fault(_ body: () throws -> Void) -> RPCFault? {
            do { try body() } catch { return error as? RPCFault }
            return nil
        }
        let negative = fault { _ = try parameters("-5").wholeNumber(0, "OFFSET", default: 0, in: 0...100) }
        #expect(negative == RPCFault(400, "iptrtpproxy.list: OFFSET must be a whole number from 0 to 100, not '-5'"))
        #expect(fault { _ = try parameters("abc").wholeNumber(0, "OFFSET", default: 0, in: 0...100) }?.code == 400)
        #expect(fault { _ = try parameters("0", "5000").wholeNumber(1, "LIMIT", default: 0, in: 0...1000) }?.code == 400)
        // jsonrpcs turns -5 into the digits of an unsigned long: still out of range.
        #expect(fault { _ = try parameters("18446744073709551611").wholeNumber(0, "OFFSET", default: 0, in: 0...100) }?.code == 400)
        let many = fault { try parameters("1", "2", "3", "4").expectAtMost(3) }
        #expect(many?.code == 400 && many?.message.contains("at most 3 parameters (got 4)") == true)
        var unreadable = parameters()
        unreadable.readable = false
        #expect(fault { try unreadable.expectAtMost(3) }?.message.contains("neither a number nor text") == true)
        #expect(fault { _ = try parameters("0", "1", "pub@m2:7").switchboard(2) }?.code == 400)
        #expect(fault { _ = try parameters("0", "1", "").switchboard(2) }?.code == 400)
    }

    @Test("the parameters as the glue passes them: texts with lengths; a negative count is an unreadable parameter")
    func parametersFromHost() throws {
        let a = Array("12".utf8CString), b = Array("pubX".utf8CString)
        try a.withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in
                let texts: [UnsafePointer<CChar>?] = [pa.baseAddress, pb.baseAddress]
                let lengths: [Int32] = [2, 3]
                let p = try #require(RPCParameters(command: "c", usage: "u", texts, lengths, 2))
                #expect(p.texts == ["12", "pub"] && p.readable)
                #expect(RPCParameters(command: "c", usage: "u", texts, [2, -1], 2) == nil)
            }
        }
        #expect(RPCParameters(command: "c", usage: "u", nil, nil, 0)?.texts == [])
        #expect(RPCParameters(command: "c", usage: "u", nil, nil, -1)?.readable == false)
        #expect(RPCParameters(command: "c", usage: "u", nil, nil, 2) == nil)
    }

    @Test("the tree reaches the host in pre-order: members with their names, elements without, text never a null pointer")
    func writerOrder() {
        let reply = RecordingReply()
        let value = RPCValue.object([
            RPCMember("total", .number(2)),
            RPCMember("sessions", .array([.object([RPCMember("id", .text("pub:0/1"))]), .object([RPCMember("call-id", .text(""))])])),
            RPCMember("bytes", .number(5_000_000_000)),
        ])
        #expect(reply.write(value) == nil)
        #expect(reply.calls == [
            "open object reply[] -> #1",
            "number #1.total = 2",
            "open array #1.sessions -> #2",
            "open object #2[] -> #3",
            "text #3.id = 'pub:0/1'",
            "open object #2[] -> #4",
            "text #4.call-id = ''",
            "number #1.bytes = 5000000000",
        ])
    }

    @Test("when the host refuses an item, nothing more is written and the item's number is returned")
    func writerRefused() {
        let reply = RecordingReply()
        reply.refuseAt = 4
        let value = RPCValue.array((0..<10).map { RPCValue.object([RPCMember("id", .count($0))]) })
        #expect(value.nodeCount == 21)
        #expect(reply.write(value) == 4)
        #expect(reply.calls.count == 4)
    }

    @Test("stats: an object of numbers, per switchboard too; several hosts add up, uptime aside")
    func statsRecord() {
        let stats = RelayStatistics(
            uptime: 60, sessionsActive: 2, sessionsAllocated: 9, sessionsDeleted: 6, sessionsExpired: 1, allocationFailures: 0,
            controlRequests: 40, controlErrors: 1, counters: StreamCounters(packets: 1000, bytes: 172_000, drops: [3, 1, 0, 0, 0]),
            switchboards: [.init(name: "pub", sessionsActive: 2, counters: StreamCounters(packets: 1000, bytes: 172_000, drops: [3, 1, 0, 0, 0]))])
        let r = stats.rpcRecord
        #expect(r["sessions-active"] == .number(2) && r["packets"] == .number(1000) && r["drops"] == .number(4))
        #expect(r["drops-unknown-source"] == .number(3) && r["drops-no-destination"] == .number(1))
        #expect(r["switchboards"]?.elements.first?["name"] == .text("pub"))
        #expect(r["switchboards"]?.elements.first?["bytes"] == .number(172_000))
        #expect(stats.rpcRecord(switchboard: "pub")?["sessions-active"] == .number(2))
        #expect(stats.rpcRecord(switchboard: "priv") == nil)
        let sum = RPCValue.sumOfNumbers([r, r], except: ["uptime"])
        #expect(sum.first == RPCMember("sessions-active", .number(4)))
        #expect(!sum.contains { $0.name == "uptime" || $0.name == "switchboards" })
        #expect(sum.contains(RPCMember("control-requests", .number(80))))
    }

    @Test("the C entries: a bad parameter is fault 400 with its line, nothing written; relays without media hosts is 501")
    func cEntries() {
        let reply = RecordingReply()
        let context = Unmanaged.passUnretained(reply).toOpaque()
        var fault: UnsafePointer<CChar>?
        var faultLength: Int32 = 0
        let texts = Array("-1".utf8CString)
        let code = texts.withUnsafeBufferPointer { t -> Int32 in
            let parameters: [UnsafePointer<CChar>?] = [t.baseAddress]
            return ipt_mod_rpc_list(parameters, [2], 1, reply.open, reply.number, reply.text, context, &fault, &faultLength)
        }
        #expect(code == 400)
        #expect(fault.map { String(cString: $0) } == "iptrtpproxy.list: OFFSET must be a whole number from 0 to 2147483647, not '-1'")
        #expect(Int(faultLength) == fault.map { strlen($0) })
        #expect(reply.calls.isEmpty)
        #expect(ipt_mod_rpc_relays(nil, nil, 0, reply.open, reply.number, reply.text, context, &fault, &faultLength) == 501)
        #expect(ipt_mod_rpc_stats(nil, nil, 0, nil, nil, nil, context, &fault, &faultLength) == 500)
        withExtendedLifetime(reply) {}
    }
}
