import Foundation
import Testing
@testable import IPTRTPProxyModule

@Suite("what crosses the C boundary")
struct HostBoundaryTests {
    @Test("text from the host: pointer + length; a null pointer with a length, or a negative length, is no text")
    func hostText() {
        let bytes: [CChar] = Array("name=pub".utf8CString)
        bytes.withUnsafeBufferPointer { p in
            #expect(HostText.string(p.baseAddress, 4) == "name")
            #expect(HostText.string(p.baseAddress, 0) == "")
            #expect(HostText.string(p.baseAddress, -1) == nil)
        }
        #expect(HostText.string(nil, 0) == "")
        #expect(HostText.string(nil, 3) == nil)
        #expect(HostText.string(nil, HostText.maxLength + 1) == nil)
    }

    @Test("a returned buffer holds its bytes, NUL-terminated, until it is filled again")
    func returnedBuffer() {
        let out = ReturnedBuffer()
        let p = out.fill("loop:0/17,,1/18")
        #expect(out.count == 15)
        #expect(p.map { String(cString: $0) } == "loop:0/17,,1/18")
        #expect(out.holds("loop:0/17,,1/18"))
        #expect(!out.holds("loop:0/17"))
        _ = out.fill(Array(repeating: UInt8(ascii: "x"), count: 5000))
        #expect(out.count == 5000)
        #expect(out.pointer.map { strlen($0) } == 5000)
    }

    @Test("the embedded relay's socket lies in the host's runtime folder, named after the main process")
    func embeddedSocketPath() throws {
        let dir = FileManager.default.temporaryDirectory.path
        #expect(try EmbeddedRelay.socketPath(runtimeDirectory: dir + "/", mainPID: 4242) == dir + "/iptrtpproxy-4242.sock")
        #expect(throws: ModuleConfigError.self) { try EmbeddedRelay.socketPath(runtimeDirectory: "/nonexistent-ipt", mainPID: 1) }
        #expect(throws: ModuleConfigError.self) { try EmbeddedRelay.socketPath(runtimeDirectory: "", mainPID: 1) }
        let long = dir + "/" + String(repeating: "d", count: 120)
        try FileManager.default.createDirectory(atPath: long, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: long) }
        #expect(throws: ModuleConfigError.self) { try EmbeddedRelay.socketPath(runtimeDirectory: long, mainPID: 1) }
    }
}
