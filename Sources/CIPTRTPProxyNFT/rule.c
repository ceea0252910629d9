// Rule expressions: one wrapper per nf_tables expression the offload ruleset uses.
#include <errno.h>
#include <stdlib.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include "internal.h"

ipt_nft_rule *ipt_nft_rule_new(void) {
    ipt_nft_rule *rule = calloc(1, sizeof *rule);
    if (!rule) return NULL;
    rule->r = nftnl_rule_alloc();
    if (!rule->r) { free(rule); errno = ENOMEM; return NULL; }
    return rule;
}

void ipt_nft_rule_free(ipt_nft_rule *rule) {
    if (!rule) return;
    nftnl_rule_free(rule->r);
    free(rule);
}

static int ipt_nft_append(ipt_nft_rule *rule, struct nftnl_expr *e) {
    if (!e) return -ENOMEM;
    nftnl_rule_add_expr(rule->r, e);
    return 0;
}

int ipt_nft_rule_payload_load(ipt_nft_rule *rule, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
    struct nftnl_expr *e = nftnl_expr_alloc("payload");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
    return ipt_nft_append(rule, e);
}

int ipt_nft_rule_payload_write(ipt_nft_rule *rule, uint32_t sreg, uint32_t base, uint32_t offset, uint32_t len,
                               uint32_t csum_type, uint32_t csum_offset, uint32_t csum_flags) {
    struct nftnl_expr *e = nftnl_expr_alloc("payload");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_SREG, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, csum_type);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, csum_offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_FLAGS, csum_flags);
    return ipt_nft_append(rule, e);
}

int ipt_nft_rule_meta_load(ipt_nft_rule *rule, uint32_t key, uint32_t dreg) {
    struct nftnl_expr *e = nftnl_expr_alloc("meta");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
    return ipt_nft_append(rule, e);
}

int ipt_nft_rule_meta_store(ipt_nft_rule *rule, uint32_t key, uint32_t sreg) {
    struct nftnl_expr *e = nftnl_expr_alloc("meta");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
    return ipt_nft_append(rule, e);
}

int ipt_nft_rule_cmp(ipt_nft_rule *rule, uint32_t sreg, uint32_t op, const void *data, uint32_t len) {
    struct nftnl_expr *e = nftnl_expr_alloc("cmp");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    return ipt_nft_append(rule, e);
}

int ipt_nft_rule_lookup(ipt_nft_rule *rule, uint32_t sreg, const char *set, uint32_t set_id, int32_t dreg) {
    struct nftnl_expr *e = nftnl_expr_alloc("lookup");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
    if (dreg >= 0) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
    return ipt_nft_append(rule, e);
}

int ipt_nft_rule_immediate(ipt_nft_rule *rule, uint32_t dreg, const void *data, uint32_t len) {
    struct nftnl_expr *e = nftnl_expr_alloc("immediate");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
    nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
    return ipt_nft_append(rule, e);
}


int ipt_nft_rule_bitwise(ipt_nft_rule *rule, uint32_t sreg, uint32_t dreg, const void *mask, const void *xor_,
                         uint32_t len) {
    struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, dreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor_, len);
    return ipt_nft_append(rule, e);
}

int ipt_nft_rule_fwd(ipt_nft_rule *rule, uint32_t sreg_device, uint32_t sreg_address) {
    struct nftnl_expr *e = nftnl_expr_alloc("fwd");
    if (!e) return -ENOMEM;
    nftnl_expr_set_u32(e, NFTNL_EXPR_FWD_SREG_DEV, sreg_device);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FWD_SREG_ADDR, sreg_address);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FWD_NFPROTO, IPT_NFT_FAMILY_IPV4);
    return ipt_nft_append(rule, e);
}
