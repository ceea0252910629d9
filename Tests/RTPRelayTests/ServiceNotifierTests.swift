import Glibc
import IPTRTPProxyPOSIX
import Testing

/// sd_notify without libsystemd: datagrams reach a real Unix socket, by path or abstract name.
@Suite("service notifier")
struct ServiceNotifierTests {
    /// A bound datagram socket at `name` (a leading NUL for the abstract namespace).
    static func listen(_ name: [UInt8]) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var un = sockaddr_un()
        un.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &un.sun_path) { raw in for (i, b) in name.enumerated() { raw[i] = b } }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        let rc = withUnsafePointer(to: &un) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard rc == 0 else { close(fd); throw SystemError("bind") }
        return fd
    }

    /// The next datagram within 2 s.
    static func receive(_ fd: Int32) -> String? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 2000) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer[0..<n], as: UTF8.self)
    }

    @Test("a path socket gets the state as one datagram")
    func path() throws {
        let path = "/tmp/ipt-notify-test-\(getpid()).sock"
        unlink(path)
        let fd = try Self.listen(Array(path.utf8) + [0])
        defer { close(fd); unlink(path) }
        try ServiceNotifier(path: path).notify("READY=1\nSTATUS=serving")
        #expect(Self.receive(fd) == "READY=1\nSTATUS=serving")
    }

    @Test("@name is the abstract namespace")
    func abstract() throws {
        let name = "ipt-notify-test-\(getpid())"
        let fd = try Self.listen([0] + Array(name.utf8))
        defer { close(fd) }
        try ServiceNotifier(path: "@" + name).notify("STOPPING=1")
        #expect(Self.receive(fd) == "STOPPING=1")
    }

    @Test("bad addresses are refused; a socket nobody listens on is an error, not a crash")
    func refusals() throws {
        #expect(throws: SystemError.self) { try ServiceNotifier(path: "relative/path") }
        #expect(throws: SystemError.self) { try ServiceNotifier(path: "@") }
        #expect(throws: SystemError.self) { try ServiceNotifier(path: "/" + String(repeating: "x", count: 200)) }
        #expect(throws: SystemError.self) { try ServiceNotifier(path: "/tmp/ipt-notify-nobody-\(getpid())").notify("READY=1") }
    }
}
