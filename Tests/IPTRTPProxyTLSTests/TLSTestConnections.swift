import Glibc
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS

/// A connected pair of non-blocking stream sockets (a socketpair: TLS does not care what carries it).
struct SocketPair: ~Copyable {
    let client: Int32
    let server: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0, "socketpair")
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        client = fds[0]
        server = fds[1]
    }

    deinit {
        close(client)
        close(server)
    }
}

/// Waits until `fd` is ready for `events` or `deadline` (monotonic ms) passes; false then.
func waitFor(_ fd: Int32, _ events: Int16, deadline: Int64) -> Bool {
    let left = deadline - MonotonicClock.milliseconds()
    guard left > 0 else { return false }
    var p = pollfd(fd: fd, events: events, revents: 0)
    return poll(&p, 1, Int32(left)) == 1
}

func deadline(inSeconds seconds: Int64 = 5) -> Int64 { MonotonicClock.milliseconds() + seconds * 1000 }

/// Runs the handshakes of both ends in this one thread, each stepped when its socket is ready,
/// until both are done or failed, or 5 s passed (a side still waiting then shows as .wantRead or
/// .wantWrite). A side that fails shuts its socket down, as a real peer closes the connection.
func handshake(_ client: TLSSession, _ server: TLSSession) -> (client: TLSProgress, server: TLSProgress) {
    let end = deadline()
    var sides = [client, server]
    var states: [TLSProgress] = [.wantWrite, .wantRead]
    func finished(_ p: TLSProgress) -> Bool { if case .wantRead = p { false } else if case .wantWrite = p { false } else { true } }
    for i in sides.indices {
        states[i] = sides[i].handshake()
        if case .failed = states[i] { shutdown(sides[i].fd, Int32(SHUT_RDWR)) }
    }
    while !states.allSatisfy(finished) {
        var waiting: [pollfd] = []
        for i in sides.indices where !finished(states[i]) {
            waiting.append(pollfd(fd: sides[i].fd, events: Int16(states[i] == .wantRead ? POLLIN : POLLOUT), revents: 0))
        }
        let left = end - MonotonicClock.milliseconds()
        guard left > 0 else { break }
        _ = poll(&waiting, nfds_t(waiting.count), Int32(left))
        for i in sides.indices where !finished(states[i]) {
            states[i] = sides[i].handshake()
            if case .failed = states[i] { shutdown(sides[i].fd, Int32(SHUT_RDWR)) }
        }
    }
    sides.removeAll()
    return (states[0], states[1])
}

/// Writes all of `bytes` through `session`, waiting on the socket as the session asks.
func writeAll(_ session: TLSSession, _ bytes: [UInt8], deadline end: Int64) -> TLSIO {
    var offset = 0
    while offset < bytes.count {
        let result = bytes.withUnsafeBytes { session.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        switch result {
        case .bytes(let n): offset += n
        case .wantRead: guard waitFor(session.fd, Int16(POLLIN), deadline: end) else { return .wantRead }
        case .wantWrite: guard waitFor(session.fd, Int16(POLLOUT), deadline: end) else { return .wantWrite }
        case .closed, .failed: return result
        }
    }
    return .bytes(offset)
}

/// Reads through `session` up to and without the first newline; the outcome that stopped it otherwise.
func readLine(_ session: TLSSession, deadline end: Int64) -> Result<String, TLSOutcomeError> {
    var line: [UInt8] = []
    var byte: [UInt8] = [0]
    while true {
        switch byte.withUnsafeMutableBytes({ session.read(into: $0) }) {
        case .bytes:
            if byte[0] == 10 { return .success(String(decoding: line, as: UTF8.self)) }
            line.append(byte[0])
        case .wantRead: guard waitFor(session.fd, Int16(POLLIN), deadline: end) else { return .failure(.init(.wantRead)) }
        case .wantWrite: guard waitFor(session.fd, Int16(POLLOUT), deadline: end) else { return .failure(.init(.wantWrite)) }
        case let other: return .failure(.init(other))
        }
    }
}

/// A read or write that did not give what a test waited for.
struct TLSOutcomeError: Error, Equatable {
    let outcome: TLSIO
    init(_ outcome: TLSIO) { self.outcome = outcome }
}

/// A client context trusting `ca`, with or without a client certificate.
func clientContext(_ certificates: TestCertificates, ca: String? = nil, certificate: String? = nil, key: String? = nil) throws -> TLSContext {
    try TLSContext.client(caFile: ca ?? certificates.ca, certificateFile: certificate, keyFile: key)
}

/// The relay's context (the test server certificate), with or without a client CA.
func serverContext(_ certificates: TestCertificates, clientCA: String? = nil) throws -> TLSContext {
    try TLSContext.server(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey, clientCAFile: clientCA)
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
