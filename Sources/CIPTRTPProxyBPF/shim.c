// libbpf's print callback takes a format and a va_list; this formats it for Swift (see the header).
#include <stdarg.h>
#include <stdio.h>
#include "CIPTRTPProxyBPF.h"

static ipt_bpf_log_line ipt_bpf_sink;

static int ipt_bpf_print(enum libbpf_print_level level, const char *format, va_list args) {
    ipt_bpf_log_line sink = __atomic_load_n(&ipt_bpf_sink, __ATOMIC_ACQUIRE);
    if (!sink) return 0;
    char line[512];
    int n = vsnprintf(line, sizeof line, format, args);
    if (n > 0 && line[(n < (int)sizeof line ? n : (int)sizeof line - 1) - 1] == '\n')
        line[(n < (int)sizeof line ? n : (int)sizeof line - 1) - 1] = '\0';
    sink((int)level, line);
    return n;
}

void ipt_bpf_set_log(ipt_bpf_log_line sink) {
    __atomic_store_n(&ipt_bpf_sink, sink, __ATOMIC_RELEASE);
    libbpf_set_print(ipt_bpf_print);
}
