// Runs a pinned XDP program on one packet with BPF_PROG_TEST_RUN and prints the program's own run
// time per packet from bpf_stats (kernel.bpf_stats_enabled must be on), for
// scripts/bench/xdp_prog.sh:   xdp_prog_run PINNED_PROG PACKET_FILE CTX_FILE RUNS
// "ns_per_run runs last_verdict". Each call runs the packet REPEAT times on the kernel's copy; the
// script's map entries send a forwarded packet back and forth between two streams, so every run
// forwards (the TTL falls by one per run: REPEAT stays below 255).
#include <bpf/bpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define REPEAT 250

static int slurp(const char *path, char *buf, int cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int n = read(fd, buf, cap);
    close(fd);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s PINNED_PROG PACKET CTX RUNS\n", argv[0]); return 2; }
    int prog = bpf_obj_get(argv[1]);
    char packet[2048], ctx[256];
    int packet_size = slurp(argv[2], packet, sizeof packet), ctx_size = slurp(argv[3], ctx, sizeof ctx);
    if (prog < 0 || packet_size <= 0 || ctx_size <= 0) { perror("xdp_prog_run: open"); return 1; }
    long calls = atol(argv[4]) / REPEAT;
    struct bpf_prog_info before = {}, after = {};
    __u32 size = sizeof before;
    if (bpf_obj_get_info_by_fd(prog, &before, &size)) { perror("xdp_prog_run: info"); return 1; }
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = packet_size,
                .ctx_in = ctx, .ctx_size_in = ctx_size, .repeat = REPEAT);
    for (long i = 0; i < calls; i++) {
        if (bpf_prog_test_run_opts(prog, &opts)) { perror("xdp_prog_run: BPF_PROG_TEST_RUN"); return 1; }
    }
    size = sizeof after;
    if (bpf_obj_get_info_by_fd(prog, &after, &size)) { perror("xdp_prog_run: info"); return 1; }
    unsigned long long runs = after.run_cnt - before.run_cnt, ns = after.run_time_ns - before.run_time_ns;
    if (runs == 0) { fprintf(stderr, "xdp_prog_run: no runs counted (bpf_stats off?)\n"); return 1; }
    printf("%.1f %llu %u\n", (double)ns / runs, runs, opts.retval);
    return 0;
}
