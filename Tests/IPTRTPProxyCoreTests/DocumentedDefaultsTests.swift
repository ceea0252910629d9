import Foundation
import Testing
@testable import IPTRTPProxyCore

/// The repository's files, for tests that hold the documentation to the code.
enum RepositoryFile {
    /// The text of `path`, relative to the repository root.
    static func text(_ path: String) throws -> String {
        // #filePath is .../Tests/IPTRTPProxyCoreTests/DocumentedDefaultsTests.swift
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The number after "default " on the first line of `text` whose first word (after any `#`)
    /// is `key` and that says "default N".
    static func documentedDefault(of key: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "#" })
            guard words.first == Substring(key) else { continue }
            guard let at = line.range(of: "default ") else { continue }
            return Int(line[at.upperBound...].prefix { $0.isNumber })
        }
        return nil
    }
}

@Suite("the documentation states the code's defaults and limits")
struct DocumentedDefaultsTests {
    @Test("iptrtpproxy.cfg.example and README section 3 give the code's defaults for max-sess, expires-timeout and resurrection-timeout")
    func switchboardFileDefaults() throws {
        let expected = [
            "max-sess": Switchboard.defaultMaxSessions,
            "expires-timeout": Int(Switchboard.defaultExpiresTimeout),
            "resurrection-timeout": Int(Switchboard.defaultResurrectionTimeout),
        ]
        let example = try RepositoryFile.text("iptrtpproxy.cfg.example")
        let readme = try RepositoryFile.text("README.md")
        for (key, value) in expected {
            #expect(RepositoryFile.documentedDefault(of: key, in: example) == value, "iptrtpproxy.cfg.example, \(key)")
            #expect(RepositoryFile.documentedDefault(of: key, in: readme) == value, "README.md, \(key)")
        }
        // And the example is a valid file.
        #expect(try SwitchboardConfigParser.parse(example, fileName: "iptrtpproxy.cfg.example").all.count == 2)
    }
}

extension DocumentedDefaultsTests {
    @Test("README and the module's README state the m= line limit and the per-call cap the code applies")
    func limits() throws {
        for path in ["README.md", "Modules/kamailio/README.md"] {
            let doc = try RepositoryFile.text(path)
            let flat = doc.split(whereSeparator: { $0 == "\n" }).joined(separator: " ")
            #expect(flat.contains("at most \(SDPParser.maxMedia) `m=` lines"), "\(path): the m= line limit")
            #expect(flat.contains("`max-call-sessions` (default \(Switchboard.defaultMaxCallSessions)"), "\(path): the per-call cap")
        }
    }
}
