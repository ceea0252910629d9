// Every test file of the core sees the shared seeded generator.
@_exported import TestSupport
@testable import IPTRTPProxyCore

/// SDP text with CRLF line endings, written in tests with LF for readability.
func crlf(_ text: String) -> [UInt8] {
    Array(text.replacingLF(with: "\r\n").utf8)
}

extension String {
    func replacingLF(with ending: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: ending)
    }
}

/// The switchboards most tests use: `pub` with gate A 10.0.0.1:30000 and gate B 203.0.113.1:40000.
let testConfig = """
    [switchboard:pub]
    addr-a = 10.0.0.1
    addr-b = 203.0.113.1
    port-a = 30000
    port-b = 40000
    max-sess = 4
    """

func testSwitchboards(_ text: String = testConfig, params: [String] = []) throws -> SwitchboardSet {
    var applier = SwitchboardParamApplier(try SwitchboardConfigParser.parse(text, fileName: "test.cfg"))
    for p in params { try applier.apply(p) }
    return applier.switchboards
}

/// A media plane for the pure-logic tests: the in-process allocator, with every call recorded and
/// a way to make a chosen call fail (a dead relay, exhausted ports).
final class RecordingPlane: MediaPlane {
    enum Call: Equatable {
        case allocate(String, SessionRequest)
        case update(String, SessionHandle, SessionRequest)
        case delete(String, ClosedRange<Int>, UInt32)
    }

    let inner: InProcessMediaPlane
    var calls: [Call] = []
    /// Fail the allocation with this 0-based index.
    var failAllocation: Int?
    var failUpdates = false
    private var allocations = 0

    init(_ switchboards: SwitchboardSet, now: UInt32 = 1000) {
        inner = InProcessMediaPlane(switchboards: switchboards, clock: { now })
    }

    func allocateSession(switchboard: String, request: SessionRequest) throws -> AllocatedSession {
        calls.append(.allocate(switchboard, request))
        defer { allocations += 1 }
        if allocations == failAllocation { throw MediaPlaneError("relay refused (test)") }
        return try inner.allocateSession(switchboard: switchboard, request: request)
    }

    func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws {
        calls.append(.update(switchboard, session, request))
        if failUpdates { throw MediaPlaneError("relay refused update (test)") }
        try inner.updateSession(switchboard: switchboard, session: session, request: request)
    }

    func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        calls.append(.delete(switchboard, ids, created))
        try inner.deleteSessions(switchboard: switchboard, ids: ids, created: created)
    }

    var liveSessions: Int { inner.sessions(of: "pub").count }
}

func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

/// alloc of the SDP `body` (from gate A's side) on switchboard `pub` of the test configuration
/// with `params` applied, over a fresh recording plane: the result and the selects it set.
func allocFromA(_ body: [UInt8], params: [String] = []) throws -> (FunctionResult, SelectValues) {
    let plane = RecordingPlane(try testSwitchboards(params: params))
    let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
    var selects = SelectValues()
    let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: body,
                                 contentType: "application/sdp", selects: &selects)
    return (result, selects)
}

