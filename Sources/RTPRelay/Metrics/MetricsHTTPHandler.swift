import NIOCore
import NIOHTTP1

/// One HTTP connection of the metrics endpoint: `GET` or `HEAD` of `/metrics` (or `/`) gets the
/// Prometheus text, another path 404, another method 405. A connection whose first request is not
/// complete within `requestTimeout` (a slow or silent client) is closed, and so is one whose
/// response the client does not take within it; after a response, a keep-alive connection has
/// `idleTimeout` for its next request.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let renderer: MetricsRenderer
    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    /// The head of the request being read.
    private var head: HTTPRequestHead?
    /// Closes the connection when the current request or response takes too long.
    private var deadline: Scheduled<Void>?

    init(renderer: MetricsRenderer, requestTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.renderer = renderer
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armDeadline(context, requestTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context, requestTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body:
            break
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        var status = HTTPResponseStatus.ok
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        if path != "/metrics" && path != "/" {
            status = .notFound
        } else if request.method != .GET && request.method != .HEAD {
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
        } else {
            body = renderer.render()
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        }
        let keepAlive = request.isKeepAlive
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD && !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        // The response must leave within the timeout too: a client that never reads holds nothing for long.
        armDeadline(context, requestTimeout)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let loop = context.eventLoop.assumeIsolated()
        written.futureResult.hop(to: loop.nonisolated()).assumeIsolated().whenComplete { [self] result in
            if case .success = result, keepAlive {
                armDeadline(context, idleTimeout)
            } else {
                context.close(promise: nil)
            }
        }
    }

    /// (Re)starts the clock of the current exchange.
    private func armDeadline(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }
}
