import Foundation
import IPTRTPProxyCore

/// The CLI's memory of sessions between runs when no relay is running: one line per session,
/// `switchboard id created side-a-rtp side-b-rtp` (`-` where an address is unknown).
struct PlaneStateFile {
    var path: String

    func load(into plane: InProcessMediaPlane) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CLIError.configuration("cannot read state file \(path): \(error.localizedDescription)")
        }
        for (n, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 5, let id = Int(f[1]), let created = UInt32(f[2]) else {
                throw CLIError.configuration("\(path):\(n + 1): not 'switchboard id created addr-a addr-b'")
            }
            var request = SessionRequest()
            for (side, text) in zip(GateSide.allCases, [f[3], f[4]]) where text != "-" {
                guard let e = Self.endpoint(text) else {
                    throw CLIError.configuration("\(path):\(n + 1): bad address '\(text)'")
                }
                request[side].streams[0].address = e
                request[side].streams[1].address = Endpoint(address: e.address, port: e.port &+ 1)
            }
            plane.restore(switchboard: f[0], record: .init(handle: SessionHandle(id: id, created: created), request: request))
        }
    }

    func save(_ plane: InProcessMediaPlane) throws {
        var out = ""
        for sw in plane.switchboards.all {
            for r in plane.sessions(of: sw.name) {
                let sides = GateSide.allCases.map { r.request[$0].streams[0].address.map(\.description) ?? "-" }
                out += "\(sw.name) \(r.handle.id) \(r.handle.created) \(sides[0]) \(sides[1])\n"
            }
        }
        do { try out.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw CLIError.configuration("cannot write state file \(path): \(error.localizedDescription)")
        }
    }

    static func endpoint(_ text: String) -> Endpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return IPAddress(host).map { Endpoint(address: $0, port: port) }
    }
}
