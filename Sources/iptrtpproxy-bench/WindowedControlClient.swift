import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// One control connection that keeps up to `window` requests in flight (docs/control-protocol.md:
/// replies come in request order and carry the request's id). It never has more than `window`
/// replies unread, so it stays within the relay's unread-replies limit however many requests a
/// run sends. Plain sockets (Unix or TCP with the challenge); every wait has a deadline.
final class WindowedControlClient {
    let fd: Int32
    private var input: [UInt8] = []
    /// Bytes of `input` already consumed (replies taken); compacted when it grows.
    private var consumed = 0
    private let timeout: Int64

    /// Connects and completes the greeting (and the challenge, when the relay asks for it).
    init(_ address: ControlAddress, secret: String?, timeoutMilliseconds: Int64 = 10_000) throws {
        timeout = timeoutMilliseconds
        let socketAddress: SocketAddress
        switch address {
        case .unix(let path): socketAddress = try SocketAddress(unixPath: path)
        case .tcp(let e): socketAddress = SocketAddress(e)
        case .tls: throw MediaPlaneError("control bench: tls: is not supported (use unix: or tcp:)")
        }
        fd = try Socket.connected(to: socketAddress, timeout: Int32(timeoutMilliseconds))
        let greeting = try ControlGreeting(parsing: readLine())
        if greeting.authRequired {
            guard let secret, !secret.isEmpty else { throw MediaPlaneError("control bench: the relay asks for a secret (--secret-file)") }
            let challenge = ControlChallenge(serverNonce: greeting.serverNonce, binding: "tcp")
            let nonce = ControlChallenge.newNonce()
            let request = ControlRequest(id: "auth", command: .auth(nonce: nonce, proof: challenge.clientProof(secret: secret, clientNonce: nonce)))
            try send(Array((ControlProtocol.encode(request) + "\n").utf8))
            let reply = try ControlProtocol.decodeReply(readLine())
            guard case .ok(let proof) = reply.outcome, challenge.acceptsRelay(proof: proof, clientNonce: nonce, secret: secret) else {
                throw MediaPlaneError("control bench: authentication failed: \(reply.outcome)")
            }
        }
    }

    deinit { close(fd) }

    /// Sends `count` requests, `request(i)` for i in 0..<count, with at most `window` in flight,
    /// and hands each reply to `reply(i, payload)` in order. An error reply, a reply out of order
    /// or a broken connection throws.
    func run(count: Int, window: Int, request: (Int) -> String, reply: (Int, String) throws -> Void) throws {
        var sent = 0
        var answered = 0
        var batch: [UInt8] = []
        while answered < count {
            batch.removeAll(keepingCapacity: true)
            while sent < count && sent - answered < window {
                batch.append(contentsOf: "iptrtp/2 \(sent) \(request(sent))\n".utf8)
                sent += 1
            }
            if !batch.isEmpty { try send(batch) }
            // Take every reply that has arrived (at least one), then refill the window.
            repeat {
                let line = try readLine()
                let r = try ControlProtocol.decodeReply(line)
                guard r.id == String(answered) else { throw MediaPlaneError("control bench: reply \(r.id) where \(answered) was due") }
                switch r.outcome {
                case .ok(let payload): try reply(answered, payload)
                case .error(let message): throw MediaPlaneError("control bench: request \(answered) (\(request(answered))): \(message)")
                }
                answered += 1
            } while answered < sent && hasCompleteLine
        }
    }

    private var hasCompleteLine: Bool { input[consumed...].contains(10) }

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        let deadline = MonotonicClock.milliseconds() + timeout
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                retryingOnInterrupt { Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            if n > 0 { offset += n; continue }
            guard n < 0 && lastCallWouldBlock else { throw MediaPlaneError("control bench: send: \(SystemError.text(errno))") }
            try wait(Int16(POLLOUT), deadline: deadline)
        }
    }

    private func readLine() throws -> [UInt8] {
        let deadline = MonotonicClock.milliseconds() + timeout
        while true {
            if let newline = input[consumed...].firstIndex(of: 10) {
                let line = Array(input[consumed..<newline])
                consumed = newline + 1
                if consumed > 65536 {
                    input.removeSubrange(..<consumed)
                    consumed = 0
                }
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
            if n > 0 { input.append(contentsOf: chunk[0..<n]); continue }
            guard n < 0 && lastCallWouldBlock else {
                throw MediaPlaneError("control bench: " + (n == 0 ? "connection closed by the relay" : "recv: \(SystemError.text(errno))"))
            }
            try wait(Int16(POLLIN), deadline: deadline)
        }
    }

    private func wait(_ events: Int16, deadline: Int64) throws {
        let left = deadline - MonotonicClock.milliseconds()
        var p = pollfd(fd: fd, events: events, revents: 0)
        guard left > 0, retryingOnInterrupt({ poll(&p, 1, Int32(left)) }) > 0 else {
            throw MediaPlaneError("control bench: no reply from the relay within \(timeout) ms")
        }
    }
}
