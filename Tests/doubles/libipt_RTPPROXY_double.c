// A TEST DOUBLE of libipt_RTPPROXY, not the library: the same seven symbols the binding
// resolves, over the reconstructed header (Sources/CXTRTPProxy/xt_RTPPROXY_reconstructed.h). It
// forwards nothing and talks to no kernel; it records every call, one line each, to the file
// named by $IPT_RTPPROXY_DOUBLE_LOG, and answers with plausible ids, stamps and ports:
//   - switchboards exist as asked, with the ports asked, unless $IPT_RTPPROXY_DOUBLE_PORTS="A,B"
//     gives the kernel's own base ports or $IPT_RTPPROXY_DOUBLE_MISSING=1 says none exists;
//   - sessions get ids 0, 1, 2, ... per open handle, created = 1000 + id, ports base + 2*id (+1);
//   - $IPT_RTPPROXY_DOUBLE_FAIL="call#n" makes the n-th such call fail (n counts from 1).
// A test in a multithreaded process sets these through ipt_rtpproxy_double_configure instead of
// the environment (setenv is not thread-safe); the double's own symbol, not the library's.
// Build: Tests/doubles/build.sh (or the XTRTPProxyPlane tests build it themselves).
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xt_RTPPROXY_reconstructed.h"

static int next_id;
static struct {
    int set;
    char log[512], fail[64], ports[32], missing[4];
} config;

/// Overrides the environment: the same four settings, NULL meaning unset.
void ipt_rtpproxy_double_configure(const char *log, const char *fail, const char *ports, const char *missing) {
    config.set = 1;
    snprintf(config.log, sizeof config.log, "%s", log ? log : "");
    snprintf(config.fail, sizeof config.fail, "%s", fail ? fail : "");
    snprintf(config.ports, sizeof config.ports, "%s", ports ? ports : "");
    snprintf(config.missing, sizeof config.missing, "%s", missing ? missing : "");
}

static const char *setting(const char *name, const char *configured) {
    if (!config.set) return getenv(name);
    return *configured ? configured : NULL;
}
static int calls_alloc, calls_update, calls_delete;

static void record(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *format, ...) {
    const char *path = setting("IPT_RTPPROXY_DOUBLE_LOG", config.log);
    if (!path) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    va_list ap;
    va_start(ap, format);
    vfprintf(f, format, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

static const char *addr(const struct xt_rtpproxy_addr *a, char *buf, size_t n) {
    char ip[INET_ADDRSTRLEN];
    struct in_addr in = { .s_addr = a->ip };
    inet_ntop(AF_INET, &in, ip, sizeof ip);
    snprintf(buf, n, "%s:%u", ip, a->port);
    return buf;
}

static const char *flags(uint32_t f) {
    switch (f & (XT_RTPPROXY_SOCKOPT_FLAG_SESSION_ADDR | XT_RTPPROXY_SOCKOPT_FLAG_SESSION_LEARNING_TIMEOUT)) {
    case 0: return "-";
    case XT_RTPPROXY_SOCKOPT_FLAG_SESSION_ADDR: return "ADDR";
    case XT_RTPPROXY_SOCKOPT_FLAG_SESSION_LEARNING_TIMEOUT: return "LEARNING_TIMEOUT";
    default: return "ADDR|LEARNING_TIMEOUT";
    }
}

// "sw=A,B"
static const char *switchboard(const struct xt_rtpproxy_sockopt_in_switchboard *sw, char *buf, size_t n) {
    char a[64], b[64];
    snprintf(buf, n, "sw=%s,%s", addr(&sw->gate[0], a, sizeof a), addr(&sw->gate[1], b, sizeof b));
    return buf;
}

// "A{learn=0 rtp=FLAGS/TIMEOUT/ADDR rtcp=...} B{...}"
static const char *session(const struct xt_rtpproxy_sockopt_in_alloc_session *s, char *buf, size_t n) {
    size_t used = 0;
    for (int g = 0; g < 2; g++) {
        const struct xt_rtpproxy_sockopt_session_source *src = &s->source[g];
        char r[64], c[64];
        used += snprintf(buf + used, n - used, "%s%c{learn=%d rtp=%s/%u/%s rtcp=%s/%u/%s}", g ? " " : "", g ? 'B' : 'A',
                         src->always_learn,
                         flags(src->stream[0].flags), src->stream[0].learning_timeout, addr(&src->stream[0].addr, r, sizeof r),
                         flags(src->stream[1].flags), src->stream[1].learning_timeout, addr(&src->stream[1].addr, c, sizeof c));
    }
    return buf;
}

// True when $IPT_RTPPROXY_DOUBLE_FAIL names this call and its number.
static int should_fail(const char *call, int number) {
    const char *spec = setting("IPT_RTPPROXY_DOUBLE_FAIL", config.fail);
    char want[64];
    snprintf(want, sizeof want, "%s#%d", call, number);
    return spec && strcmp(spec, want) == 0;
}

static int refuse(struct xt_rtpproxy_handle *h, const char *why, int code) {
    h->err_str = (char *)why;
    h->err_no = code;
    return -1;
}

int xt_RTPPROXY_open(struct xt_rtpproxy_handle *h) {
    next_id = 0;
    calls_alloc = calls_update = calls_delete = 0;
    h->sockfd = 1000;  // no socket: a number nobody uses
    h->err_str = NULL;
    h->err_no = 0;
    record("open");
    return 0;
}

int xt_RTPPROXY_close(struct xt_rtpproxy_handle *h) {
    (void)h;
    record("close");
    return 0;
}

int xt_RTPPROXY_get_switchboards(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in,
                                 void *unused, int flag, struct xt_rtpproxy_sockopt_out_switchboard **out) {
    (void)h; (void)unused;
    char sw[160];
    const char *missing = setting("IPT_RTPPROXY_DOUBLE_MISSING", config.missing);
    if (missing && *missing == '1') {
        *out = NULL;
        record("get_switchboards %s flags=%s -> none", switchboard(in, sw, sizeof sw),
               flag == XT_RTPPROXY_SOCKOPT_FLAG_OUT_SWITCHBOARD ? "OUT_SWITCHBOARD" : "?");
        return 0;
    }
    struct xt_rtpproxy_sockopt_out_switchboard *o = calloc(1, sizeof *o);
    for (int i = 0; i < 2; i++) o->so.gate[i].addr = in->gate[i];
    const char *ports = setting("IPT_RTPPROXY_DOUBLE_PORTS", config.ports);
    unsigned a, b;
    if (ports && sscanf(ports, "%u,%u", &a, &b) == 2) {
        o->so.gate[0].addr.port = (uint16_t)a;
        o->so.gate[1].addr.port = (uint16_t)b;
    }
    *out = o;
    record("get_switchboards %s flags=%s -> ports=%u,%u", switchboard(in, sw, sizeof sw),
           flag == XT_RTPPROXY_SOCKOPT_FLAG_OUT_SWITCHBOARD ? "OUT_SWITCHBOARD" : "?",
           o->so.gate[0].addr.port, o->so.gate[1].addr.port);
    return 0;
}

void xt_RTPPROXY_release_switchboards(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_out_switchboard *out) {
    (void)h;
    free(out);
    record("release_switchboards");
}

int xt_RTPPROXY_alloc_session(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in_sw,
                              struct xt_rtpproxy_sockopt_in_alloc_session *in_sess, void *unused,
                              struct xt_rtpproxy_sockopt_out_alloc_session *out) {
    (void)unused;
    char sw[160], sess[512];
    switchboard(in_sw, sw, sizeof sw);
    session(in_sess, sess, sizeof sess);
    if (should_fail("alloc_session", ++calls_alloc)) {
        record("alloc_session %s %s -> error", sw, sess);
        return refuse(h, "double: no free session", ENOSPC);
    }
    int id = next_id++;
    out->sess_id = id;
    out->created = 1000 + (uint32_t)id;
    for (int g = 0; g < 2; g++)
        for (int j = 0; j < 2; j++) out->gate[g].stream[j].port = (uint16_t)(in_sw->gate[g].port + 2 * id + j);
    record("alloc_session %s %s -> %d/%u", sw, sess, out->sess_id, out->created);
    return 0;
}

int xt_RTPPROXY_update_session(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in_sw,
                               struct xt_rtpproxy_sockopt_in_sess_id *in_id,
                               struct xt_rtpproxy_sockopt_in_alloc_session *in_sess) {
    char sw[160], sess[512];
    switchboard(in_sw, sw, sizeof sw);
    session(in_sess, sess, sizeof sess);
    int failed = should_fail("update_session", ++calls_update);
    record("update_session %s id=%d-%d/%u %s%s", sw, in_id->sess_id_min, in_id->sess_id_max, in_id->created, sess,
           failed ? " -> error" : "");
    return failed ? refuse(h, "double: no such session", ENOENT) : 0;
}

int xt_RTPPROXY_delete_session(struct xt_rtpproxy_handle *h, struct xt_rtpproxy_sockopt_in_switchboard *in_sw,
                               struct xt_rtpproxy_sockopt_in_sess_id *in_id) {
    char sw[160];
    switchboard(in_sw, sw, sizeof sw);
    int failed = should_fail("delete_session", ++calls_delete);
    record("delete_session %s id=%d-%d/%u%s", sw, in_id->sess_id_min, in_id->sess_id_max, in_id->created,
           failed ? " -> error" : "");
    return failed ? refuse(h, "double: no such session", ENOENT) : 0;
}
