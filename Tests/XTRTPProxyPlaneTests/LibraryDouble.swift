import Foundation
import IPTRTPProxyCore
import Synchronization

/// The libipt_RTPPROXY test double (Tests/doubles/libipt_RTPPROXY_double.c), compiled once per
/// test run into a temporary folder, and what it recorded. A double, not the library: neither
/// the library nor the xt_RTPPROXY kernel module exists on current systems.
enum LibraryDouble {
    /// Why the double is not there: the test that needed it fails with this.
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A folder of this test run for the double and its logs, removed when the process exits.
    static let folder: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-xt-double-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: LibraryDouble.folder) }
        return dir
    }()

    /// The outcome of building the double, once per run (tests run on several threads).
    private static let built = Mutex<Result<String, Unavailable>?>(nil)

    /// Path of the built double; throws, with the compiler's own words, when it cannot be built.
    static func path() throws -> String {
        try built.withLock { outcome in
            if outcome == nil { outcome = build() }
            return try outcome!.get()
        }
    }

    private static func build() -> Result<String, Unavailable> {
        let out = folder.appendingPathComponent("libipt_RTPPROXY_double.so").path
        let source = repository.appendingPathComponent("Tests/doubles/libipt_RTPPROXY_double.c").path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-o", out, source,
                        "-I", repository.appendingPathComponent("Sources/CXTRTPProxy").path]
        let errors = Pipe()
        cc.standardError = errors
        do {
            try cc.run()
        } catch {
            return .failure(Unavailable(description: "cannot run cc to build the libipt_RTPPROXY double: \(error)"))
        }
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else {
            return .failure(Unavailable(
                description: "cc could not build the libipt_RTPPROXY double from \(source) (exit \(cc.terminationStatus)): \(said)"))
        }
        return .success(out)
    }

    private typealias Configure = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                                  UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void

    /// Sets what the double does next (its own symbol, so no environment is changed under other
    /// tests' threads) and returns the file it records to, empty.
    static func configure(fail: String? = nil, kernelPorts: String? = nil, missing: Bool = false) throws -> String {
        let library = try path()
        let log = folder.appendingPathComponent("\(UUID().uuidString).log").path
        guard FileManager.default.createFile(atPath: log, contents: nil) else {
            throw Unavailable(description: "cannot create the double's log \(log)")
        }
        guard let handle = dlopen(library, RTLD_NOW) else {
            throw Unavailable(description: "cannot load the double \(library): \(String(cString: dlerror()))")
        }
        guard let symbol = dlsym(handle, "ipt_rtpproxy_double_configure") else {
            throw Unavailable(description: "the double \(library) has no ipt_rtpproxy_double_configure")
        }
        unsafeBitCast(symbol, to: Configure.self)(log, fail, kernelPorts, missing ? "1" : nil)
        return log
    }

    /// The calls recorded in `log`, one line each.
    static func calls(_ log: String) -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

/// SDP text with CRLF line endings, written with LF for readability.
func crlf(_ text: String) -> [UInt8] {
    Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8)
}

func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "<unchanged>" }

/// `pub`: gate A 192.0.2.10:40000, gate B 198.51.100.10:41000; side A learns for 10 s, side B
/// always learns and has no learning timeout of its own; ringing timeout 90 s. (Built directly:
/// the `switchboard` modparam would copy a one-sided setting to the other side.)
func testSwitchboards() throws -> SwitchboardSet {
    SwitchboardSet([Switchboard(
        name: "pub",
        gateA: Gate(address: IPAddress("192.0.2.10")!, basePort: 40000),
        gateB: Gate(address: IPAddress("198.51.100.10")!, basePort: 41000),
        ringingTimeout: 90,
        learning: [LearningDefaults(learningTimeout: 10, alwaysLearn: false),
                   LearningDefaults(learningTimeout: nil, alwaysLearn: true)])])
}
