// CIPTRTPProxyBPF: libbpf made visible to Swift (Sources/KernelOffload loads the project's eBPF
// objects, attaches them and fills their maps by calling libbpf directly).
//
// What is left here is what Swift cannot do itself: libbpf prints through a printf-style callback
// with a va_list, which Swift cannot format; `ipt_bpf_set_log` formats each message into a line
// and hands that to a plain callback. Two one-line atomics give Swift the ordered stores and loads
// that the XDP program's shared-memory maps need.
#ifndef CIPTRTPPROXYBPF_H
#define CIPTRTPPROXYBPF_H

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <stdint.h>

/// Stores `value` at `where` in one 64-bit store, after every store before it (release): how the
/// relay publishes a slot of the XDP program's fast index, which the program reads concurrently
/// through the map's shared memory. Swift has no atomic store to an arbitrary address.
static inline void ipt_bpf_store_release_u64(uint64_t *where, uint64_t value) {
    __atomic_store_n(where, value, __ATOMIC_RELEASE);
}

/// Loads the 64-bit counter at `where` in one load (the XDP program adds to it concurrently).
static inline uint64_t ipt_bpf_load_u64(const uint64_t *where) {
    return __atomic_load_n(where, __ATOMIC_RELAXED);
}

/// Receives one formatted libbpf message; `level` is LIBBPF_WARN, LIBBPF_INFO or LIBBPF_DEBUG.
typedef void (*ipt_bpf_log_line)(int level, const char *line);

/// Routes libbpf's messages to `sink` (NULL: drop them). Process-wide, as libbpf's own setting is.
void ipt_bpf_set_log(ipt_bpf_log_line sink);

#endif
