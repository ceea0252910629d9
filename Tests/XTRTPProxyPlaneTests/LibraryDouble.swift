import Foundation
import IPTRTPProxyCore

/// The libipt_RTPPROXY test double (Tests/doubles/libipt_RTPPROXY_double.c), compiled once per
/// test run into a temporary folder, and what it recorded. A double, not the library: neither
/// the library nor the xt_RTPPROXY kernel module exists on current systems.
enum LibraryDouble {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A folder of this test run for the double and its logs, removed when the process exits.
    static let folder: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-xt-double-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: LibraryDouble.folder) }
        return dir
    }()

    /// Path of the built double.
    static let path: String = {
        let dir = folder
        let out = dir.appendingPathComponent("libipt_RTPPROXY_double.so").path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-o", out,
                        repository.appendingPathComponent("Tests/doubles/libipt_RTPPROXY_double.c").path,
                        "-I", repository.appendingPathComponent("Sources/CXTRTPProxy").path]
        try! cc.run()
        cc.waitUntilExit()
        precondition(cc.terminationStatus == 0, "could not build the libipt_RTPPROXY double")
        return out
    }()

    private typealias Configure = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                                  UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void

    /// Sets what the double does next (its own symbol, so no environment is changed under other
    /// tests' threads) and returns the file it records to, empty.
    static func configure(fail: String? = nil, kernelPorts: String? = nil, missing: Bool = false) -> String {
        let log = folder.appendingPathComponent("\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = dlopen(path, RTLD_NOW)!
        let configure = unsafeBitCast(dlsym(handle, "ipt_rtpproxy_double_configure")!, to: Configure.self)
        configure(log, fail, kernelPorts, missing ? "1" : nil)
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
