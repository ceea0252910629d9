// knee_sink IP BASE_PORT STREAMS HISTFILE [FIRST_WAIT_S]: receives on IP:BASE_PORT+2i (i < STREAMS)
// and computes each datagram's one-way latency from the send time knee_blast put at payload offset
// 12 (both CLOCK_MONOTONIC on one host, so across namespaces too). Prints "ready", then, once
// nothing has arrived for 0.3 s after the first datagram (or FIRST_WAIT_S, default 30, without
// any), "got p50_us p99_us max_us".
// HISTFILE gets the latency histogram: "upper_bound_us count" lines, 10 µs buckets up to 1 s.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/socket.h>

enum { MAX_STREAMS = 256, BATCH = 64, BUCKET_US = 10, BUCKETS = 100000 };
static unsigned long long hist[BUCKETS + 1];

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static double percentile(unsigned long long total, double q) {
    unsigned long long want = (unsigned long long)(q * (double)total), seen = 0;
    if (want == 0) want = 1;
    for (int b = 0; b <= BUCKETS; b++) { seen += hist[b]; if (seen >= want) return (double)(b + 1) * BUCKET_US; }
    return (double)(BUCKETS + 1) * BUCKET_US;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) { fprintf(stderr, "usage: knee_sink IP BASE_PORT STREAMS HISTFILE [FIRST_WAIT_S]\n"); return 2; }
    int streams = atoi(argv[3]), base = atoi(argv[2]), ep = epoll_create1(0);
    if (streams < 1 || streams > MAX_STREAMS) return 2;
    for (int i = 0; i < streams; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), size = 16 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(base + 2 * i) };
        inet_pton(AF_INET, argv[1], &a.sin_addr);
        if (bind(fd, (void *)&a, sizeof a)) { perror("knee_sink"); return 1; }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    static unsigned char buf[BATCH][2048];
    struct iovec iov[BATCH];
    struct mmsghdr m[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) { iov[i].iov_base = buf[i]; iov[i].iov_len = sizeof buf[i]; m[i].msg_hdr.msg_iov = &iov[i]; m[i].msg_hdr.msg_iovlen = 1; }
    printf("ready\n"); fflush(stdout);
    unsigned long long got = 0;
    uint64_t max_ns = 0, deadline = now_ns() + (uint64_t)((argc == 6 ? atof(argv[5]) : 30.0) * 1e9), last = 0;
    for (;;) {
        struct epoll_event evs[MAX_STREAMS];
        int ready = epoll_wait(ep, evs, MAX_STREAMS, 50);
        uint64_t t = now_ns();
        for (int e = 0; e < ready; e++) {
            int n;
            while ((n = recvmmsg(evs[e].data.fd, m, BATCH, MSG_DONTWAIT, NULL)) > 0) {
                t = now_ns();
                for (int i = 0; i < n; i++) {
                    if (m[i].msg_len < 20) continue;
                    uint64_t sent;
                    memcpy(&sent, &buf[i][12], sizeof sent);
                    uint64_t lat = t > sent ? t - sent : 0;
                    if (lat > max_ns) max_ns = lat;
                    uint64_t b = lat / 1000 / BUCKET_US;
                    hist[b > BUCKETS ? BUCKETS : b]++;
                    got++;
                }
                last = t;
            }
        }
        if (got == 0 && t > deadline) break;
        if (got > 0 && t - last > 300000000ull) break;
    }
    FILE *f = fopen(argv[4], "w");
    if (f) {
        for (int b = 0; b <= BUCKETS; b++) if (hist[b]) fprintf(f, "%d %llu\n", (b + 1) * BUCKET_US, hist[b]);
        fclose(f);
    }
    if (got == 0) printf("0 0 0 0\n");
    else printf("%llu %.0f %.0f %.0f\n", got, percentile(got, 0.5), percentile(got, 0.99), max_ns / 1e3);
    return 0;
}
