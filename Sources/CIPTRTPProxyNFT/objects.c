// Messages that create or delete tables, chains, sets, rules and set elements, appended to a batch.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include "internal.h"

// The shim's own copies of <linux/netfilter.h> numbers must agree with it.
_Static_assert((int)IPT_NFT_FAMILY_IPV4 == (int)NFPROTO_IPV4, "NFPROTO_IPV4");
_Static_assert((int)IPT_NFT_FAMILY_NETDEV == (int)NFPROTO_NETDEV, "NFPROTO_NETDEV");

// Upper bound of one table/chain/set/rule message; element messages are sized by their count.
enum { IPT_NFT_OBJECT_MESSAGE_MAX = 8192 };

static struct nlmsghdr *ipt_nft_header(ipt_nft_batch *b, char *at, uint16_t type, uint16_t flags) {
    return nftnl_nlmsg_build_hdr(at, type, b->family, flags | NLM_F_ACK, ipt_nft_next_seq(b->sock));
}

static int ipt_nft_table_message(ipt_nft_batch *b, const char *table, uint16_t type, uint16_t flags) {
    struct nftnl_table *t = nftnl_table_alloc();
    if (!t) return -ENOMEM;
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
    char *at = ipt_nft_batch_reserve(b, IPT_NFT_OBJECT_MESSAGE_MAX);
    if (!at) { nftnl_table_free(t); return -ENOMEM; }
    struct nlmsghdr *nlh = ipt_nft_header(b, at, type, flags);
    nftnl_table_nlmsg_build_payload(nlh, t);
    nftnl_table_free(t);
    ipt_nft_batch_commit_message(b, nlh);
    return 0;
}

int ipt_nft_batch_add_table(ipt_nft_batch *b, const char *table) {
    return ipt_nft_table_message(b, table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
}

int ipt_nft_batch_delete_table(ipt_nft_batch *b, const char *table) {
    return ipt_nft_table_message(b, table, NFT_MSG_DELTABLE, 0);
}

int ipt_nft_batch_add_set(ipt_nft_batch *b, const char *table, const char *set, uint32_t set_id,
                          uint32_t key_type, uint32_t key_len, uint32_t data_type, uint32_t data_len,
                          int counter) {
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s) return -ENOMEM;
    nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, set);
    nftnl_set_set_u32(s, NFTNL_SET_ID, set_id);
    nftnl_set_set_u32(s, NFTNL_SET_FAMILY, b->family);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
    uint32_t flags = 0;
    if (data_len) {
        flags |= NFT_SET_MAP;
        nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, data_type);
        nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, data_len);
    }
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
    if (counter) {
        struct nftnl_expr *e = nftnl_expr_alloc("counter");
        if (!e) { nftnl_set_free(s); return -ENOMEM; }
        nftnl_set_add_expr(s, e);
    }
    char *at = ipt_nft_batch_reserve(b, IPT_NFT_OBJECT_MESSAGE_MAX);
    if (!at) { nftnl_set_free(s); return -ENOMEM; }
    struct nlmsghdr *nlh = ipt_nft_header(b, at, NFT_MSG_NEWSET, NLM_F_CREATE);
    nftnl_set_nlmsg_build_payload(nlh, s);
    nftnl_set_free(s);
    ipt_nft_batch_commit_message(b, nlh);
    return 0;
}

int ipt_nft_batch_add_rule(ipt_nft_batch *b, const char *table, const char *chain, ipt_nft_rule *rule) {
    nftnl_rule_set_str(rule->r, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(rule->r, NFTNL_RULE_CHAIN, chain);
    nftnl_rule_set_u32(rule->r, NFTNL_RULE_FAMILY, b->family);
    char *at = ipt_nft_batch_reserve(b, IPT_NFT_OBJECT_MESSAGE_MAX);
    if (!at) return -ENOMEM;
    struct nlmsghdr *nlh = ipt_nft_header(b, at, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
    nftnl_rule_nlmsg_build_payload(nlh, rule->r);
    ipt_nft_batch_commit_message(b, nlh);
    return 0;
}

static int ipt_nft_elements_message(ipt_nft_batch *b, uint16_t type, uint16_t flags,
                                    const char *table, const char *set,
                                    const uint8_t *keys, uint32_t key_len,
                                    const uint8_t *data, uint32_t data_len, uint32_t count) {
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s) return -ENOMEM;
    nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, set);
    for (uint32_t i = 0; i < count; i++) {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        if (!e) { nftnl_set_free(s); return -ENOMEM; }
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, keys + (size_t)i * key_len, key_len);
        if (data) nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data + (size_t)i * data_len, data_len);
        nftnl_set_elem_add(s, e);
    }
    // Each element costs its key, its data and a few attribute headers.
    char *at = ipt_nft_batch_reserve(b, 1024 + (size_t)count * (key_len + data_len + 64));
    if (!at) { nftnl_set_free(s); return -ENOMEM; }
    struct nlmsghdr *nlh = ipt_nft_header(b, at, type, flags);
    nftnl_set_elems_nlmsg_build_payload(nlh, s);
    nftnl_set_free(s);
    ipt_nft_batch_commit_message(b, nlh);
    return 0;
}

int ipt_nft_batch_add_elements(ipt_nft_batch *b, const char *table, const char *set,
                               const uint8_t *keys, uint32_t key_len,
                               const uint8_t *data, uint32_t data_len, uint32_t count) {
    if (count == 0) return 0;
    return ipt_nft_elements_message(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, table, set,
                                    keys, key_len, data, data_len, count);
}

int ipt_nft_batch_delete_elements(ipt_nft_batch *b, const char *table, const char *set,
                                  const uint8_t *keys, uint32_t key_len, uint32_t count) {
    if (count == 0) return 0;
    return ipt_nft_elements_message(b, NFT_MSG_DELSETELEM, 0, table, set, keys, key_len, NULL, 0, count);
}

int ipt_nft_batch_add_ingress_chain(ipt_nft_batch *b, const char *table, const char *chain, int32_t priority,
                                    const char *const *devices, uint32_t count) {
    if (count == 0) return -EINVAL;
    // libnftnl copies the names from a NULL-terminated array.
    const char **names = calloc(count + 1, sizeof *names);
    if (!names) return -ENOMEM;
    memcpy(names, devices, count * sizeof *names);
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (!c) { free(names); return -ENOMEM; }
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_NETDEV_INGRESS);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, priority);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    nftnl_chain_set_data(c, NFTNL_CHAIN_DEVICES, names, 0);
    free(names);
    char *at = ipt_nft_batch_reserve(b, IPT_NFT_OBJECT_MESSAGE_MAX + (size_t)count * 32);
    if (!at) { nftnl_chain_free(c); return -ENOMEM; }
    struct nlmsghdr *nlh = ipt_nft_header(b, at, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
    nftnl_chain_nlmsg_build_payload(nlh, c);
    nftnl_chain_free(c);
    ipt_nft_batch_commit_message(b, nlh);
    return 0;
}
