// CIPTRTPProxyNFT: the thin C shim between the kernel offload (Sources/KernelOffload) and the
// nf_tables netlink API, over libmnl + libnftnl. It only builds and sends netlink messages and
// reads the replies; which table, maps and rules the relay installs is decided in Swift
// (KernelOffload/OffloadRuleset.swift). Every function is prefixed `ipt_nft_`.
//
// Errors: functions returning int give 0 on success and -errno on failure; functions returning a
// pointer give NULL and set errno. Nothing here is thread-safe: one socket per thread.
#ifndef CIPTRTPPROXYNFT_H
#define CIPTRTPPROXYNFT_H

#include <stdint.h>
// nf_tables.h only (its enums name the expression parameters); <linux/netfilter.h> would pull
// <linux/in.h> into Swift next to Glibc's <netinet/in.h>.
#include <linux/netfilter/nf_tables.h>

/// NFPROTO_IPV4 and NFPROTO_NETDEV, as <linux/netfilter.h> numbers them.
enum { IPT_NFT_FAMILY_IPV4 = 2, IPT_NFT_FAMILY_NETDEV = 5 };

/// A netlink socket to nf_tables (NETLINK_NETFILTER), bound, with its own sequence numbers.
typedef struct ipt_nft_socket ipt_nft_socket;
/// A transaction being built: messages between BATCH_BEGIN and BATCH_END, applied all or nothing.
typedef struct ipt_nft_batch ipt_nft_batch;
/// A rule being built: a list of expressions, appended to a chain by `ipt_nft_batch_add_rule`.
typedef struct ipt_nft_rule ipt_nft_rule;

/// Opens and binds the socket. Needs CAP_NET_ADMIN to change anything.
ipt_nft_socket *ipt_nft_socket_open(void);
/// Closes the socket.
void ipt_nft_socket_close(ipt_nft_socket *sock);

/// Starts a transaction for tables of `family` (NFPROTO_IPV4, ...).
ipt_nft_batch *ipt_nft_batch_new(ipt_nft_socket *sock, uint16_t family);
/// Frees a batch, committed or not.
void ipt_nft_batch_free(ipt_nft_batch *batch);
/// Number of messages added so far (0: nothing to commit).
uint32_t ipt_nft_batch_count(const ipt_nft_batch *batch);
/// Sends the transaction and waits for the kernel's answer to each message. Returns 0 when the
/// kernel applied all of it, else -errno of the first message it refused (then nothing applied).
int ipt_nft_batch_commit(ipt_nft_batch *batch);

/// Adds table `table` (no error if it exists).
int ipt_nft_batch_add_table(ipt_nft_batch *batch, const char *table);
/// Deletes table `table` with everything in it (error ENOENT if absent).
int ipt_nft_batch_delete_table(ipt_nft_batch *batch, const char *table);
/// Adds a base chain of type filter, policy accept, on the ingress of the `count` interfaces
/// named in `devices` (a netdev table), at `priority`.
int ipt_nft_batch_add_ingress_chain(ipt_nft_batch *batch, const char *table, const char *chain, int32_t priority,
                                    const char *const *devices, uint32_t count);
/// Adds a set (`data_len` 0) or a map. `key_type`/`data_type` are nft datatype numbers (what `nft
/// list` prints); `set_id` names the set for rules in the same transaction; `counter` gives every
/// element a packet/byte counter.
int ipt_nft_batch_add_set(ipt_nft_batch *batch, const char *table, const char *set, uint32_t set_id,
                          uint32_t key_type, uint32_t key_len, uint32_t data_type, uint32_t data_len,
                          int counter);
/// Appends `rule` to `chain`. The rule stays owned by the caller.
int ipt_nft_batch_add_rule(ipt_nft_batch *batch, const char *table, const char *chain, ipt_nft_rule *rule);
/// Adds `count` elements to `set`: keys are `key_len` bytes each, back to back; `data` (NULL for a
/// plain set) holds `data_len` bytes per element. Adding a key that exists with other data: EEXIST.
int ipt_nft_batch_add_elements(ipt_nft_batch *batch, const char *table, const char *set,
                               const uint8_t *keys, uint32_t key_len,
                               const uint8_t *data, uint32_t data_len, uint32_t count);
/// Deletes `count` elements of `set` by key (ENOENT if one is absent).
int ipt_nft_batch_delete_elements(ipt_nft_batch *batch, const char *table, const char *set,
                                  const uint8_t *keys, uint32_t key_len, uint32_t count);

/// Reads the per-element counters of `set`: for up to `capacity` elements, the key (`key_len`
/// bytes each into `keys`), packets and bytes. Returns how many elements the set holds (more than
/// `capacity` means: call again with room for that many), or -errno.
long ipt_nft_dump_counters(ipt_nft_socket *sock, uint16_t family, const char *table, const char *set,
                           uint8_t *keys, uint32_t key_len, uint64_t *packets, uint64_t *bytes,
                           uint32_t capacity);

/// A new empty rule.
ipt_nft_rule *ipt_nft_rule_new(void);
/// Frees a rule.
void ipt_nft_rule_free(ipt_nft_rule *rule);
/// `payload load len @ base + offset => dreg` (base: NFT_PAYLOAD_NETWORK_HEADER, ...).
int ipt_nft_rule_payload_load(ipt_nft_rule *rule, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg);
/// `payload write sreg => len @ base + offset`, fixing the checksum at `csum_offset` (csum_type
/// NFT_PAYLOAD_CSUM_INET; flags NFT_PAYLOAD_L4CSUM_PSEUDOHDR when the field is in the pseudo-header).
int ipt_nft_rule_payload_write(ipt_nft_rule *rule, uint32_t sreg, uint32_t base, uint32_t offset, uint32_t len,
                               uint32_t csum_type, uint32_t csum_offset, uint32_t csum_flags);
/// `meta load key => dreg`.
int ipt_nft_rule_meta_load(ipt_nft_rule *rule, uint32_t key, uint32_t dreg);
/// `meta set key with sreg`.
int ipt_nft_rule_meta_store(ipt_nft_rule *rule, uint32_t key, uint32_t sreg);
/// `cmp op sreg data` (op: NFT_CMP_EQ, NFT_CMP_NEQ, ...): the rule stops here unless it holds.
int ipt_nft_rule_cmp(ipt_nft_rule *rule, uint32_t sreg, uint32_t op, const void *data, uint32_t len);
/// `lookup sreg set`; with `dreg` >= 0 a map lookup that loads the element's data into `dreg`.
/// The rule stops here when the key is absent.
int ipt_nft_rule_lookup(ipt_nft_rule *rule, uint32_t sreg, const char *set, uint32_t set_id, int32_t dreg);
/// `immediate dreg data`.
int ipt_nft_rule_immediate(ipt_nft_rule *rule, uint32_t dreg, const void *data, uint32_t len);
/// `bitwise sreg & mask ^ xor => dreg` over `len` bytes.
int ipt_nft_rule_bitwise(ipt_nft_rule *rule, uint32_t sreg, uint32_t dreg, const void *mask, const void *xor_,
                         uint32_t len);
/// `fwd ip to` the IPv4 address in `sreg_address` through the interface whose index is in
/// `sreg_device` (netdev ingress only): the neighbour layer resolves the address, the TTL is
/// decremented, and the packet leaves at once.
int ipt_nft_rule_fwd(ipt_nft_rule *rule, uint32_t sreg_device, uint32_t sreg_address);

/// RTN_UNICAST, as <linux/rtnetlink.h> numbers it: a route out of an interface.
enum { IPT_NFT_ROUTE_UNICAST = 1 };
/// Where the kernel routes a packet: the route's type (RTN_*), its output interface, and the next
/// hop (the gateway, or the destination itself on a connected network; network byte order).
struct ipt_nft_route {
    uint8_t type;
    uint32_t interface;
    uint8_t next_hop[4];
};
/// Looks up the route from `source` (NULL: any) to `destination` (IPv4, network byte order) over
/// rtnetlink, as `ip route get DESTINATION from SOURCE` does. Returns 0 or -errno (e.g.
/// -ENETUNREACH).
int ipt_nft_route_get(const uint8_t destination[4], const uint8_t source[4], struct ipt_nft_route *route);

#endif
