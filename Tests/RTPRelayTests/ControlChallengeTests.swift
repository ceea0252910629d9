import IPTRTPProxyAuth
import IPTRTPProxyCore
import Testing
@testable import RTPRelay

@Suite("control challenge, greeting and guessing throttle")
struct ControlChallengeTests {
    let secret = "3f1d0a9c6b5e4d2f8a7b6c5d4e3f2a1b"

    @Test("a proof holds only for its secret, both nonces and its binding")
    func proofsAreBound() {
        let challenge = ControlChallenge(binding: "tcp")
        let nonce = ControlChallenge.newNonce()
        let proof = challenge.clientProof(secret: secret, clientNonce: nonce)
        #expect(ControlChallenge.isWellFormed(proof) && ControlChallenge.isWellFormed(nonce))
        #expect(challenge.acceptsClient(proof: proof, clientNonce: nonce, secret: secret))
        #expect(!challenge.acceptsClient(proof: proof, clientNonce: nonce, secret: secret + "x"))
        #expect(!challenge.acceptsClient(proof: proof, clientNonce: ControlChallenge.newNonce(), secret: secret))
        #expect(!ControlChallenge(binding: "tcp").acceptsClient(proof: proof, clientNonce: nonce, secret: secret))
        #expect(!ControlChallenge(serverNonce: challenge.serverNonce, binding: "tls:00").acceptsClient(
            proof: proof, clientNonce: nonce, secret: secret))
        // The relay's proof is another value: a client's proof cannot be reflected back as the relay's.
        let relay = challenge.relayProof(secret: secret, clientNonce: nonce)
        #expect(relay != proof)
        #expect(challenge.acceptsRelay(proof: relay, clientNonce: nonce, secret: secret))
        #expect(!challenge.acceptsRelay(proof: proof, clientNonce: nonce, secret: secret))
        for bad in ["", "zz", String(proof.dropLast()), proof.uppercased() + "0", String(repeating: "g", count: 64)] {
            #expect(!challenge.acceptsClient(proof: bad, clientNonce: nonce, secret: secret))
        }
    }

    @Test("greetings round-trip; another version or garbage is a clear error")
    func greetings() throws {
        let g = ControlGreeting(serverNonce: ControlChallenge.newNonce(), authRequired: true)
        #expect(try ControlGreeting(parsing: Array(g.line.utf8)) == g)
        #expect(try ControlGreeting(parsing: Array((g.line + "\r").utf8)) == g)
        #expect { try ControlGreeting(parsing: Array("iptrtp/1 - hello x auth=none".utf8)) } throws: {
            ($0 as? MediaPlaneError)?.message.contains("upgrade the older side") == true
        }
        for bad in ["", "iptrtp/2 - hello", "iptrtp/2 1 ok pong", "iptrtp/2 - hello \(g.serverNonce) auth=maybe"] {
            #expect(throws: MediaPlaneError.self) { try ControlGreeting(parsing: Array(bad.utf8)) }
        }
    }

    @Test("failed attempts drain a per-address bucket that refills with time; others are not affected")
    func throttle() {
        var t = AuthThrottle(burst: 3, perSecond: 10)
        for _ in 0..<3 {
            #expect(t.mayTry("198.51.100.7", now: 0))
            t.failed("198.51.100.7", now: 0)
        }
        #expect(!t.mayTry("198.51.100.7", now: 0))
        #expect(t.mayTry("198.51.100.8", now: 0))
        #expect(!t.mayTry("198.51.100.7", now: 50))
        #expect(t.mayTry("198.51.100.7", now: 100))
        var small = AuthThrottle(burst: 1, perSecond: 1, capacity: 4)
        for i in 0..<100 { small.failed("203.0.113.\(i)", now: 0) }
        #expect(small.remembered <= 4)
    }
}
