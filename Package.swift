// swift-tools-version:6.0
// iptrtpproxy: the media relay of the SER family of SIP proxies, in Swift.
// The layers stand on each other in one direction only (DESIGN.md): the pure core at the bottom,
// the relay engine and the plane clients above it, host glue and executables on top.
import PackageDescription

// Issue 9 moves every target to Swift 6 mode; a target listed with this setting is not converted yet.
let swift5UntilConverted: [SwiftSetting] = [.swiftLanguageMode(.v5)]

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
    ],
    targets: [
        // Pure logic, no I/O and no Foundation (it is linked into the Kamailio module with a static stdlib).
        .target(name: "IPTRTPProxyCore"),
        // Thin C shim: system calls Swift cannot reach (recvmmsg/sendmmsg, ...). `ipt_` prefix.
        .target(name: "CIPTRTPProxy"),
        // The command-line tool: runs the five functions on SDP from standard input.
        .executableTarget(
            name: "iptrtpproxy",
            dependencies: [
                "IPTRTPProxyCore",
                "IPTRTPProxyClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: swift5UntilConverted),
        // `make bench`: SDP parse + rewrite figures.
        .executableTarget(name: "iptrtpproxy-bench", dependencies: ["IPTRTPProxyCore"], swiftSettings: swift5UntilConverted),
        // `make bench`: the RTP load generator and sink (loss, one-way latency, relay CPU per packet).
        .executableTarget(
            name: "rtpload",
            dependencies: ["CIPTRTPProxy", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: swift5UntilConverted),
        // Host-neutral C ABI of the loadable module (ipt_mod.h, `ipt_mod_` prefix): state, the five functions, selects.
        .target(
            name: "IPTRTPProxyModule",
            dependencies: [
                "IPTRTPProxyCore", "IPTRTPProxyClient", "RTPRelay", "XTRTPProxyPlane",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["ipt_mod.h"], swiftSettings: swift5UntilConverted),
        // Kernel offload (issue 5): nf_tables over netlink. C only for what Swift cannot import (`ipt_nft_`
        // constants, compile-time checks) next to libmnl + libnftnl ...
        .target(name: "CIPTRTPProxyNFT", linkerSettings: [.linkedLibrary("nftnl"), .linkedLibrary("mnl")]),
        // ... and the Swift offload: netlink batches, acks, dumps and route lookups; install / re-point / remove
        // streams, read counters; and the relay engine's StreamOffload over it (NFTablesStreamOffload).
        .target(name: "KernelOffload", dependencies: ["IPTRTPProxyCore", "CIPTRTPProxyNFT", "RTPRelay"]),
        // Drives KernelOffload from the shell (Tests/e2e/50-kernel-offload.sh, scripts/bench/kernel.sh).
        .executableTarget(name: "ipt-nft-probe", dependencies: ["KernelOffload", "IPTRTPProxyCore"]),
        .testTarget(name: "KernelOffloadTests", dependencies: ["KernelOffload", "IPTRTPProxyCore", "CIPTRTPProxyNFT"]),
        // The xt_RTPPROXY binding: libipt_RTPPROXY loaded with dlopen (C, `ipt_xt_`), and the MediaPlane over it.
        .target(name: "CXTRTPProxy", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "XTRTPProxyPlane", dependencies: ["IPTRTPProxyCore", "CXTRTPProxy"], swiftSettings: swift5UntilConverted),
        .testTarget(name: "XTRTPProxyPlaneTests", dependencies: ["XTRTPProxyPlane", "IPTRTPProxyCore"], swiftSettings: swift5UntilConverted),
        // The user-space relay engine (issue 3): forwarding threads, learning, expiry, journal, control server.
        .target(
            name: "RTPRelay",
            dependencies: [
                "IPTRTPProxyCore", "CIPTRTPProxy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ], swiftSettings: swift5UntilConverted),
        // The control-socket client: a MediaPlane over a running relay (CLI, Kamailio module).
        .target(name: "IPTRTPProxyClient", dependencies: ["IPTRTPProxyCore"], swiftSettings: swift5UntilConverted),
        // The relay daemon.
        .executableTarget(
            name: "iptrtpproxyd",
            dependencies: [
                "RTPRelay", "IPTRTPProxyCore", "KernelOffload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: swift5UntilConverted),
        .testTarget(name: "RTPRelayTests", dependencies: ["RTPRelay", "IPTRTPProxyClient", "IPTRTPProxyCore"], swiftSettings: swift5UntilConverted),
        .testTarget(name: "IPTRTPProxyModuleTests", dependencies: ["IPTRTPProxyModule", "IPTRTPProxyCore", "IPTRTPProxyClient"], swiftSettings: swift5UntilConverted),
        .testTarget(name: "IPTRTPProxyCoreTests", dependencies: ["IPTRTPProxyCore"]),
    ],
)
