import CIPTRTPProxyRedis

/// One Redis reply (RESP2, what hiredis 0.14 reads), copied out of hiredis's reply object.
public enum RedisReply: Equatable, Sendable {
    /// A simple string (`+OK`).
    case status(String)
    /// An error reply (`-WRONGTYPE ...`): the server refused the command; the connection is fine.
    case error(String)
    /// An integer (`:1`).
    case integer(Int64)
    /// A bulk string, binary-safe (may hold NUL bytes).
    case string([UInt8])
    /// A nil bulk string or nil array (`$-1`, `*-1`).
    case null
    /// An array (`*N`), possibly nested.
    case array([RedisReply])
}

extension RedisReply {
    /// Copies a hiredis reply (not freed here); nil for a type hiredis 0.14 never produces.
    /// hiredis limits nesting (7 levels), so the recursion is shallow.
    static func copying(_ pointer: UnsafePointer<redisReply>) -> RedisReply? {
        let reply = pointer.pointee
        func bytes() -> [UInt8] {
            guard let str = reply.str, reply.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: Int(reply.len)))
        }
        switch reply.type {
        case ipt_redis_reply_string(): return .string(bytes())
        case ipt_redis_reply_status(): return .status(String(decoding: bytes(), as: UTF8.self))
        case ipt_redis_reply_error(): return .error(String(decoding: bytes(), as: UTF8.self))
        case ipt_redis_reply_integer(): return .integer(Int64(reply.integer))
        case ipt_redis_reply_nil(): return .null
        case ipt_redis_reply_array():
            let count = Int(reply.elements)
            guard count > 0 else { return .array([]) }
            guard let elements = reply.element else { return nil }
            var items: [RedisReply] = []
            items.reserveCapacity(count)
            for i in 0..<count {
                guard let element = elements[i] else {
                    items.append(.null)
                    continue
                }
                guard let item = copying(element) else { return nil }
                items.append(item)
            }
            return .array(items)
        default: return nil
        }
    }
}

/// A Redis connection that failed (connect, AUTH, SELECT, I/O, timeout): one line naming the
/// server (password hidden) and what went wrong.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// The whole message, e.g. `redis redis://127.0.0.1:6379/0: connect: Connection refused`.
    public var message: String

    /// Creates the error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
