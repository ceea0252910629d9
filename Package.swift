// swift-tools-version:6.0
// iptrtpproxy: the media relay of the SER family of SIP proxies, in Swift.
// The layers stand on each other in one direction only (DESIGN.md): the pure core at the bottom,
// the relay engine and the plane clients above it, host glue and executables on top.
import PackageDescription

let package = Package(
    name: "iptrtpproxy",
    products: [
        .executable(name: "iptrtpproxy", targets: ["iptrtpproxy"]),
        .library(name: "IPTRTPProxyCore", targets: ["IPTRTPProxyCore"]),
        // The Swift half of the Kamailio module; scripts/build-extras.sh links it with Modules/kamailio into iptrtpproxy.so.
        .library(name: "IPTRTPProxyModule", type: .static, targets: ["IPTRTPProxyModule"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The relay's /metrics HTTP server (issue 14): a maintained HTTP/1 stack with timeouts.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Pure logic, no I/O and no Foundation (it is linked into the Kamailio module with a static stdlib).
        .target(name: "IPTRTPProxyCore"),
        // The one POSIX layer: socket addresses, sockets, files, threads, EINTR, errors (relay, client, rtpload, daemon).
        .target(name: "IPTRTPProxyPOSIX", dependencies: ["IPTRTPProxyCore", "CIPTRTPProxy"]),
        // The control protocol's challenge (HMAC-SHA256 over fresh nonces) and greeting, shared by relay and client.
        .target(name: "IPTRTPProxyAuth", dependencies: ["IPTRTPProxyCore", "CIPTRTPProxyCrypto"]),
        // OpenSSL's libcrypto for it (HMAC, constant-time compare): a header, no logic.
        .target(name: "CIPTRTPProxyCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        // Thin C shim: system calls Swift cannot reach (recvmmsg/sendmmsg, ...). `ipt_` prefix.
        .target(name: "CIPTRTPProxy"),
        // The command-line tool: runs the five functions on SDP from standard input.
        .executableTarget(
            name: "iptrtpproxy",
            dependencies: [
                "IPTRTPProxyCore",
                "IPTRTPProxyClient",
                "IPTRTPProxyTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `make bench`: SDP parse + rewrite figures; `control`: control-plane throughput of a running relay.
        .executableTarget(
            name: "iptrtpproxy-bench",
            dependencies: ["IPTRTPProxyCore", "IPTRTPProxyPOSIX", "IPTRTPProxyAuth", "IPTRTPProxyClient"]),
        // `make bench`: the RTP load generator and sink (loss, one-way latency, relay CPU per packet).
        .executableTarget(
            name: "rtpload",
            dependencies: [
                "CIPTRTPProxy", "IPTRTPProxyCore", "IPTRTPProxyPOSIX",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Host-neutral C ABI of the loadable module (ipt_mod.h, `ipt_mod_` prefix): state, the five functions, selects.
        .target(
            name: "IPTRTPProxyModule",
            dependencies: [
                "IPTRTPProxyCore", "IPTRTPProxyPOSIX", "IPTRTPProxyTLS", "IPTRTPProxyClient", "RTPRelay", "XTRTPProxyPlane",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["ipt_mod.h"]),
        // Kernel offload (issue 5): nf_tables over netlink. C only for what Swift cannot import (`ipt_nft_`
        // constants, compile-time checks) next to libmnl + libnftnl ...
        .target(name: "CIPTRTPProxyNFT", linkerSettings: [.linkedLibrary("nftnl"), .linkedLibrary("mnl")]),
        // ... and the Swift offload: netlink batches, acks, dumps and route lookups; install / re-point / remove
        // streams, read counters; and the relay engine's StreamOffload over it (NFTablesStreamOffload).
        .target(name: "KernelOffload", dependencies: ["IPTRTPProxyCore", "CIPTRTPProxyNFT", "CIPTRTPProxyBPF", "RTPRelay"]),
        // eBPF (issue 15): libbpf for Swift (C only for libbpf's va_list log callback). The programs
        // themselves are C in bpf/, compiled by clang into build/bpf/*.o (scripts/build-bpf.sh).
        .target(name: "CIPTRTPProxyBPF", linkerSettings: [.linkedLibrary("bpf")]),
        // Drives KernelOffload from the shell (Tests/e2e/50-kernel-offload.sh, scripts/bench/kernel.sh).
        .executableTarget(name: "ipt-nft-probe", dependencies: ["KernelOffload", "IPTRTPProxyCore"]),
        .testTarget(name: "KernelOffloadTests", dependencies: ["KernelOffload", "IPTRTPProxyCore", "CIPTRTPProxyNFT", "CIPTRTPProxyBPF", "TestSupport"]),
        // The xt_RTPPROXY binding: libipt_RTPPROXY loaded with dlopen (C, `ipt_xt_`), and the MediaPlane over it.
        .target(name: "CXTRTPProxy", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "XTRTPProxyPlane", dependencies: ["IPTRTPProxyCore", "CXTRTPProxy"]),
        .testTarget(name: "XTRTPProxyPlaneTests", dependencies: ["XTRTPProxyPlane", "IPTRTPProxyCore"]),
        // The user-space relay engine (issue 3): forwarding threads, learning, expiry, journal, control server.
        .target(
            name: "RTPRelay",
            dependencies: [
                "IPTRTPProxyCore", "IPTRTPProxyPOSIX", "IPTRTPProxyAuth", "IPTRTPProxyTLS", "CIPTRTPProxy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The control-socket client: a MediaPlane over a running relay (CLI, Kamailio module).
        .target(name: "IPTRTPProxyClient", dependencies: ["IPTRTPProxyCore", "IPTRTPProxyPOSIX", "IPTRTPProxyAuth", "IPTRTPProxyTLS"]),
        // TLS of the control connection (issue 11) over the system's OpenSSL: C only for its macros
        // (`ipt_tls_`) ...
        .target(name: "CIPTRTPProxyTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // ... and the Swift: contexts from PEM files, non-blocking sessions, the channel binding.
        .target(name: "IPTRTPProxyTLS", dependencies: ["IPTRTPProxyCore", "IPTRTPProxyPOSIX", "CIPTRTPProxyTLS"]),
        .testTarget(
            name: "IPTRTPProxyTLSTests",
            dependencies: [
                "IPTRTPProxyTLS", "CIPTRTPProxyTLS", "IPTRTPProxyClient", "IPTRTPProxyCore", "IPTRTPProxyPOSIX",
                "IPTRTPProxyAuth", "RTPRelay", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The session store's Redis client (issue 12) over Debian's hiredis: C only for its macros and the
        // context's error string (`ipt_redis_`) ...
        .target(name: "CIPTRTPProxyRedis", linkerSettings: [.linkedLibrary("hiredis")]),
        // ... and the Swift: one blocking connection (AUTH, SELECT, commands, pipelines), every wait bounded.
        // Nothing else depends on it yet; the Kamailio module must never link hiredis.
        .target(name: "IPTRTPProxyRedis", dependencies: ["CIPTRTPProxyRedis", "IPTRTPProxyCore"]),
        .testTarget(name: "IPTRTPProxyRedisTests", dependencies: ["IPTRTPProxyRedis", "IPTRTPProxyCore", "RedisTestServer"]),
        // The tests' own redis-server (posix_spawn on a free loopback port, always stopped and
        // reaped), shared by the Redis client's and the Redis store's tests. Not shipped.
        .target(name: "RedisTestServer", dependencies: ["IPTRTPProxyRedis", "IPTRTPProxyCore"], path: "Tests/RedisTestServer"),
        // What several test targets share (the seeded generator of property tests).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // The relay's sessions in Redis (issue 12): a SessionStore over the client above, used by
        // iptrtpproxyd --redis (not by the embedded relay: the Kamailio module links no hiredis).
        .target(
            name: "RelayRedisStore",
            dependencies: [
                "RTPRelay", "IPTRTPProxyRedis", "IPTRTPProxyCore", "IPTRTPProxyPOSIX",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "RelayRedisStoreTests",
            dependencies: [
                "RelayRedisStore", "RTPRelay", "IPTRTPProxyRedis", "IPTRTPProxyCore", "IPTRTPProxyPOSIX", "RedisTestServer", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The relay daemon.
        .executableTarget(
            name: "iptrtpproxyd",
            dependencies: [
                "RTPRelay", "RelayRedisStore", "IPTRTPProxyCore", "IPTRTPProxyPOSIX", "IPTRTPProxyAuth", "IPTRTPProxyTLS", "KernelOffload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RTPRelayTests", dependencies: ["RTPRelay", "IPTRTPProxyPOSIX", "IPTRTPProxyAuth", "IPTRTPProxyClient", "IPTRTPProxyCore"]),
        .testTarget(name: "IPTRTPProxyModuleTests", dependencies: ["IPTRTPProxyModule", "IPTRTPProxyCore", "IPTRTPProxyClient"]),
        .testTarget(name: "IPTRTPProxyCoreTests", dependencies: ["IPTRTPProxyCore", "TestSupport"]),
    ],
)
