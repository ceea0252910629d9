// knee_blast SRC_IP BASE_PORT DST_IP PORTS RATE SECONDS: sends 172-byte RTP-looking datagrams from
// SRC_IP:BASE_PORT+2i to DST_IP:PORTS[i] (PORTS comma-separated, one per stream) at RATE packets/s in
// total (RATE 0: flat-out), for SECONDS. Each packet carries its send time (CLOCK_MONOTONIC, ns)
// at payload offset 12, so that a sink on the same host computes one-way latency. Paced by batches:
// whatever is due is sent at once (at most 64 per sendmmsg, streams in turn), then it sleeps 20 µs,
// so that a sink on the same core still runs. Prints "sent cpu_seconds".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>

enum { MAX_STREAMS = 256, BATCH = 64, SIZE = 172 };

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: knee_blast SRC_IP BASE_PORT DST_IP PORTS RATE SECONDS\n"); return 2; }
    int fds[MAX_STREAMS], streams = 0, base = atoi(argv[2]);
    char *ports = strdup(argv[4]);
    for (char *p = strtok(ports, ","); p && streams < MAX_STREAMS; p = strtok(NULL, ",")) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(base + 2 * streams) }, dst = src;
        inet_pton(AF_INET, argv[1], &src.sin_addr);
        dst.sin_port = htons(atoi(p));
        inet_pton(AF_INET, argv[3], &dst.sin_addr);
        if (bind(fd, (void *)&src, sizeof src) || connect(fd, (void *)&dst, sizeof dst)) { perror("knee_blast"); return 1; }
        fds[streams++] = fd;
    }
    if (streams == 0) return 2;
    double rate = atof(argv[5]);
    uint64_t duration = (uint64_t)(atof(argv[6]) * 1e9);
    static unsigned char payload[BATCH][SIZE];
    struct iovec iov[BATCH];
    struct mmsghdr m[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) {
        payload[i][0] = 0x80;  // RTP version 2, payload type 0 (PCMU, as the calls' SDP)
        iov[i].iov_base = payload[i];
        iov[i].iov_len = SIZE;
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    uint16_t seq[MAX_STREAMS] = { 0 };
    uint64_t start = now_ns(), end = start + duration, sent = 0;
    int next = 0;
    struct timespec nap = { 0, 20000 };
    for (uint64_t t = start; t < end; t = now_ns()) {
        uint64_t due = rate > 0 ? (uint64_t)(rate * (double)(t - start) / 1e9) : sent + BATCH;
        if (due <= sent) { nanosleep(&nap, NULL); continue; }
        uint64_t n = due - sent;
        if (n > BATCH) n = BATCH;
        int s = next;
        next = (next + 1) % streams;
        for (uint64_t i = 0; i < n; i++) {
            uint16_t q = seq[s]++;
            payload[i][2] = q >> 8; payload[i][3] = q & 0xff;
            uint32_t ts = (uint32_t)q * 160u, ssrc = 0x1000u + (uint32_t)s;
            memcpy(&payload[i][4], &(uint32_t){ htonl(ts) }, 4);
            memcpy(&payload[i][8], &(uint32_t){ htonl(ssrc) }, 4);
            memcpy(&payload[i][12], &t, sizeof t);
        }
        int got = sendmmsg(fds[s], m, (unsigned)n, 0);
        if (got > 0) sent += (uint64_t)got;
        else if (rate > 0) sent += n;  // a full socket buffer or a refused port: counted as sent (and lost)
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%llu %.3f\n", (unsigned long long)sent,
           ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    return 0;
}
