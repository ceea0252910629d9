import Glibc
import CIPTRTPProxyNFT

/// What the routing table says about a destination, as `ip route get DESTINATION from SOURCE`
/// asks it over rtnetlink: so that the netdev fast path (which skips the kernel's routing) sends a
/// packet the way the kernel would.
struct RouteAnswer: Equatable {
    /// The route's type (RTN_UNICAST, RTN_LOCAL, ...).
    var type: UInt8
    /// The output interface's index (0 when the route names none).
    var interface: UInt32
    /// The next hop: the gateway, or the destination itself on a connected network (4 bytes,
    /// network byte order).
    var nextHop: [UInt8]
}

/// Route lookups over rtnetlink, one socket per lookup (they happen once per stream install).
enum RouteLookup {
    /// Looks up the route from `source` (nil: any) to `destination` (IPv4 addresses, 4 bytes each,
    /// network byte order). Throws the kernel's error (e.g. ENETUNREACH), or ENOENT when the reply
    /// holds no route.
    static func route(to destination: [UInt8], from source: [UInt8]?) throws(NetlinkError) -> RouteAnswer {
        let socket = try NetlinkSocket(family: NETLINK_ROUTE)
        let sequence = socket.takeSequence()
        try socket.send(request(to: destination, from: source, sequence: sequence))
        return try answer(to: destination, in: try socket.receive(),
                          replies: RequestReplies(sequence: sequence, portID: socket.portID))
    }

    /// The RTM_GETROUTE request.
    static func request(to destination: [UInt8], from source: [UInt8]?, sequence: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 256)
        let length = bytes.withUnsafeMutableBytes { buffer in
            let header = mnl_nlmsg_put_header(buffer.baseAddress)!
            header.pointee.nlmsg_type = UInt16(RTM_GETROUTE)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST)
            header.pointee.nlmsg_seq = sequence
            let route = mnl_nlmsg_put_extra_header(header, MemoryLayout<rtmsg>.size)!.bindMemory(to: rtmsg.self, capacity: 1)
            route.pointee.rtm_family = UInt8(AF_INET)
            route.pointee.rtm_dst_len = 32
            destination.withUnsafeBytes { mnl_attr_put(header, UInt16(RTA_DST.rawValue), 4, $0.baseAddress) }
            if let source {
                route.pointee.rtm_src_len = 32
                source.withUnsafeBytes { mnl_attr_put(header, UInt16(RTA_SRC.rawValue), 4, $0.baseAddress) }
            }
            return Int(header.pointee.nlmsg_len)
        }
        return Array(bytes[..<length])
    }

    /// The route in the reply `messages`. The kernel's error is thrown as it came; an output
    /// interface or gateway of the wrong size is ERANGE; no route message at all is ENOENT.
    static func answer(to destination: [UInt8], in messages: [NetlinkMessage], replies: RequestReplies) throws(NetlinkError) -> RouteAnswer {
        var found: RouteAnswer?
        reading: for message in messages {
            switch try replies.read(message) {
            case .done: break reading
            case .skip: continue
            case .data:
                guard message.payload.count >= MemoryLayout<rtmsg>.size else { throw NetlinkError(EPROTO) }
                let header = message.payload.withUnsafeBytes { $0.loadUnaligned(as: rtmsg.self) }
                // Without a gateway the next hop is the destination itself (a connected network).
                var answer = RouteAnswer(type: header.rtm_type, interface: 0, nextHop: destination)
                for attribute in message.attributes(after: MemoryLayout<rtmsg>.size) {
                    switch attribute.type {
                    case UInt16(RTA_OIF.rawValue):
                        guard let index = attribute.hostUInt32 else { throw NetlinkError(ERANGE) }
                        answer.interface = index
                    case UInt16(RTA_GATEWAY.rawValue):
                        guard attribute.payload.count == 4 else { throw NetlinkError(ERANGE) }
                        answer.nextHop = Array(attribute.payload)
                    default:
                        continue
                    }
                }
                found = answer
            }
        }
        guard let found else { throw NetlinkError(ENOENT) }
        return found
    }
}
