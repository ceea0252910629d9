import IPTRTPProxyPOSIX

/// Starting shared-socket mode (`RelayConfiguration.sharedSockets`).
extension RelayEngine {
    /// Opens each forwarding thread's shared sockets, starts the steering over every gate's port
    /// range and marks the book so that sessions bind nothing (book lock held, epoll sets open,
    /// before the store is restored). Returns the port map the threads demultiplex with, or nil:
    /// not asked for, or it failed — then one error line, and the relay binds a socket per port
    /// as without the option.
    func startSharedSockets(book: inout SessionBook) -> GatePortMap? {
        book.sharedSockets = false
        guard let steering = configuration.sharedSockets else { return nil }
        let map = GatePortMap(switchboards: switchboards, layout: operations.layout)
        if let why = map.refusal {
            logger.error("shared sockets: \(why); using a socket per port")
            return nil
        }
        let v4 = map.ranges.contains { !$0.isV6 }, v6 = map.ranges.contains { $0.isV6 }
        var opened: [ShardSockets] = []
        var adopted = 0
        do {
            for _ in operations.shards { opened.append(try ShardSockets.open(v4: v4, v6: v6)) }
            try steering.start(ranges: map.ranges, sockets: opened.flatMap { [$0.receive4, $0.receive6] })
            do {
                for (shard, sockets) in zip(operations.shards, opened) {
                    try shard.withLock { try $0.adopt(sockets) }
                    adopted += 1
                }
            } catch {
                steering.stop()
                throw error
            }
        } catch {
            for shard in operations.shards.prefix(adopted) { shard.withLock { $0.releaseShared() } }
            for var sockets in opened.dropFirst(adopted) { sockets.close() }
            logger.error("shared sockets (\(steering.name)): \(error); using a socket per port")
            return nil
        }
        book.sharedSockets = true
        logger.info("shared sockets: \(steering.name) steers \(map.ranges.count) gate port range(s) to \(opened.count) thread(s)")
        return map
    }
}
