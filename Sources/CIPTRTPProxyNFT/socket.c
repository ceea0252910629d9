// The netlink socket and the transaction (batch) plumbing: build, send, read the acks.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>
#include "internal.h"

// Large transactions (deleting hundreds of streams) go in one sendmsg; netlink refuses a message
// larger than the socket's send buffer, so raise it (allowed with CAP_NET_ADMIN).
enum { IPT_NFT_SOCKET_BUFFER = 8 << 20 };

ipt_nft_socket *ipt_nft_socket_open(void) {
    ipt_nft_socket *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!s->nl) { int e = errno; free(s); errno = e; return NULL; }
    if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno; mnl_socket_close(s->nl); free(s); errno = e; return NULL;
    }
    int fd = mnl_socket_get_fd(s->nl), size = IPT_NFT_SOCKET_BUFFER, one = 1;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    // Error acks without a copy of the refused message: a failed large batch stays readable.
    mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof one);
    // A bounded wait for acks, so that a lost reply cannot hang the relay's control thread.
    struct timeval tv = { .tv_sec = 5, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    s->portid = mnl_socket_get_portid(s->nl);
    s->seq = (uint32_t)time(NULL);
    return s;
}

void ipt_nft_socket_close(ipt_nft_socket *s) {
    if (!s) return;
    mnl_socket_close(s->nl);
    free(s);
}

uint32_t ipt_nft_next_seq(ipt_nft_socket *s) { return s->seq++; }

char *ipt_nft_batch_reserve(ipt_nft_batch *b, size_t need) {
    if (b->len + need > b->cap) {
        size_t cap = b->cap * 2;
        while (cap < b->len + need) cap *= 2;
        char *buf = realloc(b->buf, cap);
        if (!buf) { errno = ENOMEM; return NULL; }
        b->buf = buf;
        b->cap = cap;
    }
    memset(b->buf + b->len, 0, need);
    return b->buf + b->len;
}

void ipt_nft_batch_commit_message(ipt_nft_batch *b, const struct nlmsghdr *nlh) {
    b->len += NLMSG_ALIGN(nlh->nlmsg_len);
    b->messages++;
}

ipt_nft_batch *ipt_nft_batch_new(ipt_nft_socket *s, uint16_t family) {
    ipt_nft_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->sock = s;
    b->family = family;
    b->cap = 16384;
    b->buf = calloc(1, b->cap);
    if (!b->buf) { free(b); errno = ENOMEM; return NULL; }
    b->first_seq = ipt_nft_next_seq(s);
    struct nlmsghdr *nlh = nftnl_batch_begin(b->buf, b->first_seq);
    b->len = NLMSG_ALIGN(nlh->nlmsg_len);
    return b;
}

void ipt_nft_batch_free(ipt_nft_batch *b) {
    if (!b) return;
    free(b->buf);
    free(b);
}

uint32_t ipt_nft_batch_count(const ipt_nft_batch *b) { return b->messages; }

/// Reads replies until every message of the batch has its ack. Returns the first error.
static int ipt_nft_read_acks(ipt_nft_batch *b, uint32_t last_seq) {
    char buf[65536];
    uint32_t acked = 0;
    int first_error = 0;
    int fd = mnl_socket_get_fd(b->sock->nl);
    while (acked < b->messages) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return first_error ? first_error : -errno;
        }
        int left = (int)n;
        for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_pid != b->sock->portid) continue;
            if (nlh->nlmsg_seq < b->first_seq || nlh->nlmsg_seq > last_seq) continue;
            if (nlh->nlmsg_type != NLMSG_ERROR) continue;
            const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
            // An error on BATCH_BEGIN's seq is the commit itself failing: nothing more will come.
            if (nlh->nlmsg_seq == b->first_seq) return err->error ? err->error : -EPROTO;
            acked++;
            if (err->error && !first_error) first_error = err->error;
        }
    }
    // Anything left (a late commit error) belongs to this batch: read it now, without waiting.
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) break;
        int left = (int)n;
        for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_type != NLMSG_ERROR) continue;
            const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
            if (err->error && !first_error) first_error = err->error;
        }
    }
    return first_error;
}

int ipt_nft_batch_commit(ipt_nft_batch *b) {
    if (b->messages == 0) return 0;
    uint32_t last_seq = b->sock->seq - 1;
    char *end = ipt_nft_batch_reserve(b, NLMSG_HDRLEN + 64);
    if (!end) return -ENOMEM;
    struct nlmsghdr *nlh = nftnl_batch_end(end, ipt_nft_next_seq(b->sock));
    b->len += NLMSG_ALIGN(nlh->nlmsg_len);
    if (mnl_socket_sendto(b->sock->nl, b->buf, b->len) < 0) return -errno;
    return ipt_nft_read_acks(b, last_seq);
}
