// Reading the per-element counters of a set (one GETSETELEM dump).
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <libnftnl/set.h>
#include <libnftnl/expr.h>
#include "internal.h"

struct ipt_nft_dump {
    uint8_t *keys;
    uint32_t key_len;
    uint64_t *packets, *bytes;
    uint32_t capacity;
    long count;
    int error;
};

struct ipt_nft_counter { uint64_t packets, bytes; };

static int ipt_nft_counter_of(struct nftnl_expr *e, void *data) {
    struct ipt_nft_counter *c = data;
    const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    if (name && strcmp(name, "counter") == 0) {
        c->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
        c->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
    }
    return 0;
}

static int ipt_nft_dump_message(const struct nlmsghdr *nlh, void *data) {
    struct ipt_nft_dump *d = data;
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s) { d->error = -ENOMEM; return MNL_CB_ERROR; }
    if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) { nftnl_set_free(s); d->error = -EPROTO; return MNL_CB_ERROR; }
    struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
    if (!it) { nftnl_set_free(s); d->error = -ENOMEM; return MNL_CB_ERROR; }
    for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it)) {
        if (d->count < (long)d->capacity) {
            uint32_t len = 0;
            const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
            uint8_t *slot = d->keys + (size_t)d->count * d->key_len;
            memset(slot, 0, d->key_len);
            if (key) memcpy(slot, key, len < d->key_len ? len : d->key_len);
            struct ipt_nft_counter c = { 0, 0 };
            nftnl_set_elem_expr_foreach(e, ipt_nft_counter_of, &c);
            d->packets[d->count] = c.packets;
            d->bytes[d->count] = c.bytes;
        }
        d->count++;
    }
    nftnl_set_elems_iter_destroy(it);
    nftnl_set_free(s);
    return MNL_CB_OK;
}

long ipt_nft_dump_counters(ipt_nft_socket *sock, uint16_t family, const char *table, const char *set,
                           uint8_t *keys, uint32_t key_len, uint64_t *packets, uint64_t *bytes,
                           uint32_t capacity) {
    char buf[MNL_SOCKET_BUFFER_SIZE * 8];
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s) return -ENOMEM;
    nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, set);
    uint32_t seq = ipt_nft_next_seq(sock);
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, seq);
    nftnl_set_elems_nlmsg_build_payload(nlh, s);
    nftnl_set_free(s);
    if (mnl_socket_sendto(sock->nl, nlh, nlh->nlmsg_len) < 0) return -errno;

    struct ipt_nft_dump d = { keys, key_len, packets, bytes, capacity, 0, 0 };
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(sock->nl, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        int r = mnl_cb_run(buf, (size_t)n, seq, sock->portid, ipt_nft_dump_message, &d);
        if (r < 0) return d.error ? d.error : -errno;
        if (r == MNL_CB_STOP) break;
    }
    return d.count;
}
