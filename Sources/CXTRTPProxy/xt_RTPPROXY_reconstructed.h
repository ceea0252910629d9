// xt_RTPPROXY.h as far as it can be told from its users: RECONSTRUCTED, not the original.
//
// The kernel module xt_RTPPROXY and its library libipt_RTPPROXY (2p.cz, 2007–2011) were never
// found: no copy of xt_RTPPROXY.h, xt_RTPPROXY.c or libipt_RTPPROXY.c is reachable. What is
// declared here is what the SER module iptrtpproxy (v1, 2010) used of them: the names of the
// calls, structures and fields it touched and the order of their arguments (spec
// iptrtpproxy-v1.md §1). Field types, the order of fields, the numeric values of the flags and
// anything the module never touched are guesses, marked "guess". Build against the real header
// with `make iptdir=PATH` (defines IPT_XT_RTPPROXY_REAL_HEADER); this file is then not used.
#ifndef XT_RTPPROXY_RECONSTRUCTED_H
#define XT_RTPPROXY_RECONSTRUCTED_H

#include <stdint.h>

#define XT_RTPPROXY_MAX_GATE 2    /* gate A = 0, gate B = 1 (used by the module) */
#define XT_RTPPROXY_MAX_STREAM 2  /* RTP = 0, RTCP = 1 (inferred) */

/* Flag values: guess. */
#define XT_RTPPROXY_SOCKOPT_FLAG_SESSION_ADDR 0x01
#define XT_RTPPROXY_SOCKOPT_FLAG_SESSION_LEARNING_TIMEOUT 0x02
#define XT_RTPPROXY_SOCKOPT_FLAG_OUT_SWITCHBOARD 0x01

/* An IPv4 address (network order) and a port (guess: host order). */
struct xt_rtpproxy_addr {
    uint32_t ip;
    uint16_t port;
};

/* The library's handle: sockfd, err_str, err_no are used; the rest is unknown, so callers keep
 * room after it (IPT_XT_HANDLE_ROOM in the shim). */
struct xt_rtpproxy_handle {
    int sockfd;
    char *err_str;
    int err_no;
};

/* Names a switchboard by its two gates. */
struct xt_rtpproxy_sockopt_in_switchboard {
    struct xt_rtpproxy_addr gate[XT_RTPPROXY_MAX_GATE];
};

/* What the kernel says of a switchboard: `so.gate[i].addr` is used; the rest is a guess. */
struct xt_rtpproxy_switchboard_sockopt {
    struct {
        struct xt_rtpproxy_addr addr;
    } gate[XT_RTPPROXY_MAX_GATE];
    uint32_t max_session_count, expires_timeout, resurrection_timeout; /* guess */
};

struct xt_rtpproxy_sockopt_out_switchboard {
    struct xt_rtpproxy_switchboard_sockopt so;
};

/* One client's side of a session request. */
struct xt_rtpproxy_sockopt_session_source {
    int always_learn;
    struct {
        uint32_t flags;             /* SESSION_ADDR, SESSION_LEARNING_TIMEOUT */
        uint32_t learning_timeout;  /* seconds */
        struct xt_rtpproxy_addr addr;
    } stream[XT_RTPPROXY_MAX_STREAM];
};

/* alloc_session / update_session request: source[g] is the client on gate g's side. */
struct xt_rtpproxy_sockopt_in_alloc_session {
    struct xt_rtpproxy_sockopt_session_source source[XT_RTPPROXY_MAX_GATE];
};

/* alloc_session reply. */
struct xt_rtpproxy_sockopt_out_alloc_session {
    int sess_id;
    uint32_t created;
    struct {
        struct {
            uint16_t port;
        } stream[XT_RTPPROXY_MAX_STREAM];
    } gate[XT_RTPPROXY_MAX_GATE];
};

/* A range of sessions, and the created stamp of the first. */
struct xt_rtpproxy_sockopt_in_sess_id {
    int sess_id_min, sess_id_max;
    uint32_t created;
};

/* The library calls (return < 0 on error, with handle.err_str / err_no set). The arguments the
 * module passed as NULL are typed void * here: their types are unknown. */
int xt_RTPPROXY_open(struct xt_rtpproxy_handle *h);
int xt_RTPPROXY_close(struct xt_rtpproxy_handle *h);
int xt_RTPPROXY_get_switchboards(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in,
                                 void *unused, int flags, struct xt_rtpproxy_sockopt_out_switchboard **out);
void xt_RTPPROXY_release_switchboards(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_out_switchboard *out);
int xt_RTPPROXY_alloc_session(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in_sw,
                              struct xt_rtpproxy_sockopt_in_alloc_session *in_sess, void *unused,
                              struct xt_rtpproxy_sockopt_out_alloc_session *out_sess);
int xt_RTPPROXY_update_session(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in_sw,
                               struct xt_rtpproxy_sockopt_in_sess_id *in_id,
                               struct xt_rtpproxy_sockopt_in_alloc_session *in_sess);
int xt_RTPPROXY_delete_session(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in_sw,
                               struct xt_rtpproxy_sockopt_in_sess_id *in_id);

#endif
