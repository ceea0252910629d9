// CIPTRTPProxyBPF: libbpf made visible to Swift (Sources/KernelOffload loads the project's eBPF
// objects, attaches them and fills their maps by calling libbpf directly).
//
// What is left here is what Swift cannot do itself: libbpf prints through a printf-style callback
// with a va_list, which Swift cannot format; `ipt_bpf_set_log` formats each message into a line
// and hands that to a plain callback.
#ifndef CIPTRTPPROXYBPF_H
#define CIPTRTPPROXYBPF_H

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/if_link.h>

/// Receives one formatted libbpf message; `level` is LIBBPF_WARN, LIBBPF_INFO or LIBBPF_DEBUG.
typedef void (*ipt_bpf_log_line)(int level, const char *line);

/// Routes libbpf's messages to `sink` (NULL: drop them). Process-wide, as libbpf's own setting is.
void ipt_bpf_set_log(ipt_bpf_log_line sink);

#endif
