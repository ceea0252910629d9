import ArgumentParser
import KernelOffload

// The kernel offload's option values, read by name (`--kernel-offload-path xdp`, `--xdp-mode generic`).
extension KernelOffloadPath: ExpressibleByArgument {}
extension XDPMode: ExpressibleByArgument {}
