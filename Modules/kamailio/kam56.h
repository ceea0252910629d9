/*
 * kam56.h — the few Kamailio 5.6 structures and core functions the module glue uses, declared by
 * us (layouts verified against 5.6.3 on x86_64: sizes by offsetof against its headers, the
 * sip_msg offsets also against the disassembly of get_body and del_lump). Only
 * what the glue touches is declared; everything else stays opaque. Types are prefixed `kam_` so
 * that they are not mistaken for Kamailio's own headers.
 *
 * The core's functions keep their names: the module leaves them undefined and the dynamic loader
 * binds them to the kamailio executable when it dlopens the module.
 */
#ifndef IPT_KAM56_H
#define IPT_KAM56_H

#include <stddef.h>
#include "ipt_kam_version.h" /* generated from `kamailio -v` by scripts/build-extras.sh */

/* The one Kamailio release whose layouts below were verified (the sip_msg offsets change between
 * patch releases without notice). The build refuses any other, and the module itself refuses to
 * load into a core of another version than it was built for (mod_register, ipt_kam_module.c). */
#define KAM56_VERIFIED_VERSION "5.6.3"
#if IPT_KAM_VERSION_MAJOR != 5 || IPT_KAM_VERSION_MINOR != 6 || IPT_KAM_VERSION_PATCH != 3
#error "kam56.h declares the layouts of Kamailio 5.6.3 (KAM56_VERIFIED_VERSION); this build is for another version (IPT_KAM_VERSION): verify the offsets (spec kamailio-5.6-abi.md section 2) first"
#endif
#if !IPT_KAM_DBG_SR_MEMORY
#error "kam56.h declares the DBG_SR_MEMORY memory API; this Kamailio was built without it"
#endif
#if !defined(__x86_64__)
#error "kam56.h layouts were verified on x86_64 only"
#endif

/* ---- strings ---- */
typedef struct kam_str {
	char *s;
	int len;
} kam_str_t;
_Static_assert(sizeof(kam_str_t) == 16, "str is 16 bytes");

/* ---- the SIP message: opaque, read through verified offsets ---- */
struct sip_msg;
struct lump;
struct kam_fparam; /* fparam_t: made by the core's fixups, read back by get_*_fparam */

#define KAM_MSG_FIRST_LINE_TYPE 32   /* short: 1 request, 2 reply */
#define KAM_MSG_CONTENT_TYPE 216     /* struct kam_hdr_field * */
#define KAM_MSG_CONTENT_LENGTH 224   /* struct kam_hdr_field * */
#define KAM_MSG_RCV_SRC_IP 512       /* struct ip_addr: msg->rcv.src_ip, where the message came from
                                        ($si; pv_get_srcip hands msg+0x200 to ip_addr2a) */
#define KAM_MSG_BUF 720              /* char * : the message as received */
#define KAM_MSG_LEN 728              /* unsigned int */
#define KAM_MSG_ADD_RM 1552          /* struct lump *: header lumps (body ones before eoh was parsed) */
#define KAM_MSG_BODY_LUMPS 1560      /* struct lump *: lumps past the end of the headers */
#define KAM_MSG_SIZE 2008

#define KAM_HDR_BODY 24              /* str: the header's value */
#define KAM_HDR_PARSED 48            /* void *: for Content-Length, the length as a long */

/* struct ip_addr (ip_addr.h, 24 bytes): unsigned af; unsigned len; 16 address bytes, network order. */
#define KAM_IP_ADDR_AF 0             /* unsigned int: AF_INET or AF_INET6 */
#define KAM_IP_ADDR_LEN 4            /* unsigned int: 4 or 16 */
#define KAM_IP_ADDR_BYTES 8

#define KAM_FIELD(msg, offset, type) (*(type *)((char *)(msg) + (offset)))

/* ---- lumps (lump_struct.h): a message change the core applies when it sends the message ----
 * Root lumps of msg->add_rm / msg->body_lumps are kept sorted by offset: LUMP_DEL removes `len`
 * bytes at `u.offset` of the original message, LUMP_NOP anchors insertions at `u.offset`; the
 * LUMP_ADD lumps hang off a root lump's `before` / `after` lists. Read only to find changes that
 * overlap ours; offsets also verified against the disassembly of del_lump and remove_lump. */
enum kam_lump_op { KAM_LUMP_NOP = 0, KAM_LUMP_DEL = 1, KAM_LUMP_ADD = 2, KAM_LUMP_ADD_SUBST = 3, KAM_LUMP_ADD_OPT = 4 };

typedef struct kam_lump {
	int type;      /* enum _hdr_types_t */
	int op;        /* enum kam_lump_op */
	union {
		int offset;  /* LUMP_DEL, LUMP_NOP */
		char *value; /* LUMP_ADD */
	} u;
	int len;
	struct kam_lump *before;
	struct kam_lump *after;
	struct kam_lump *next;
	int flags;     /* enum lump_flag */
} kam_lump_t;
_Static_assert(sizeof(kam_lump_t) == 56, "struct lump is 56 bytes");
_Static_assert(offsetof(kam_lump_t, op) == 4, "lump.op at 4");
_Static_assert(offsetof(kam_lump_t, u) == 8, "lump.u at 8");
_Static_assert(offsetof(kam_lump_t, len) == 16, "lump.len at 16");
_Static_assert(offsetof(kam_lump_t, next) == 40, "lump.next at 40");

/* ---- module interface (sr_module.h) ---- */
typedef int (*kam_cmd_function_t)(struct sip_msg *msg, char *param1, char *param2);
typedef int (*kam_fixup_function_t)(void **param, int param_no);

typedef struct kam_cmd_export {
	const char *name;
	kam_cmd_function_t function;
	int param_no;
	kam_fixup_function_t fixup;
	kam_fixup_function_t free_fixup;
	unsigned int flags; /* routes the function is allowed in */
} kam_cmd_export_t;
_Static_assert(sizeof(kam_cmd_export_t) == 48, "cmd_export_t is 48 bytes");

typedef struct kam_param_export {
	const char *name;
	unsigned int type;
	void *param_pointer;
} kam_param_export_t;
_Static_assert(sizeof(kam_param_export_t) == 24, "param_export_t is 24 bytes");

struct kam_rpc;
typedef void (*kam_rpc_function_t)(struct kam_rpc *rpc, void *ctx);
typedef struct kam_rpc_export {
	const char *name;
	kam_rpc_function_t function;
	const char **doc_str;
	unsigned int flags;
} kam_rpc_export_t;
_Static_assert(sizeof(kam_rpc_export_t) == 32, "rpc_export_t is 32 bytes");

typedef struct kam_module_exports {
	const char *name;
	unsigned int dlflags;
	kam_cmd_export_t *cmds;
	kam_param_export_t *params;
	kam_rpc_export_t *rpc_methods;
	void *pv_items;
	int (*response_f)(struct sip_msg *msg);
	int (*init_mod_f)(void);
	int (*init_child_f)(int rank);
	void (*destroy_mod_f)(void);
} kam_module_exports_t;
_Static_assert(sizeof(kam_module_exports_t) == 80, "module_exports is 80 bytes");

/* modparam types (modparam.h) */
#define KAM_PARAM_STRING (1U << 0)
#define KAM_PARAM_INT (1U << 1)
#define KAM_PARAM_USE_FUNC (1U << 31)
typedef int (*kam_param_func_t)(unsigned int type, void *value);

/* route masks for cmd_export_t.flags (route.h) */
#define KAM_REQUEST_ROUTE 1
#define KAM_FAILURE_ROUTE 2
#define KAM_TM_ONREPLY_ROUTE 4
#define KAM_BRANCH_ROUTE 8
#define KAM_ONSEND_ROUTE 16
#define KAM_CORE_ONREPLY_ROUTE 128
#define KAM_ONREPLY_ROUTE (KAM_TM_ONREPLY_ROUTE | KAM_CORE_ONREPLY_ROUTE)

/* child_init ranks (sr_module.h) */
#define KAM_PROC_MAIN 0
#define KAM_PROC_TIMER (-1)
#define KAM_PROC_RPC (-2)
#define KAM_PROC_TCP_MAIN (-4)
#define KAM_PROC_POSTCHILDINIT (-126)
#define KAM_PROC_INIT (-127)
#define KAM_PROC_NOCHLDINIT (-128)

/* ---- selects (select.h) ---- */
struct kam_select;
typedef int (*kam_select_f)(kam_str_t *res, struct kam_select *s, struct sip_msg *msg);

enum kam_select_param_type { KAM_SEL_PARAM_INT = 0, KAM_SEL_PARAM_STR = 1, KAM_SEL_PARAM_DIV = 2, KAM_SEL_PARAM_PTR = 3 };

typedef struct kam_select_row {
	kam_select_f curr_f;
	enum kam_select_param_type type;
	kam_str_t name;
	kam_select_f new_f;
	int flags;
} kam_select_row_t;
_Static_assert(sizeof(kam_select_row_t) == 48, "select_row_t is 48 bytes");

#define KAM_SEL_PARAM_EXPECTED (1 << 9)

/* select_t is only passed through; its size is checked so that a layout change is noticed. */
typedef struct kam_select {
	kam_select_f f[4];
	int param_offset[5];
	struct {
		enum kam_select_param_type type;
		union {
			int i;
			kam_str_t s;
			void *p;
		} v;
	} params[32];
	int n;
} kam_select_t;
_Static_assert(sizeof(kam_select_t) == 832, "select_t is 832 bytes");

/* ---- RPC (rpc.h) ---- */
typedef struct kam_rpc {
	void (*fault)(void *ctx, int code, char *fmt, ...);
	int (*send)(void *ctx);
	int (*add)(void *ctx, char *fmt, ...);
	int (*scan)(void *ctx, char *fmt, ...);
	int (*rpl_printf)(void *ctx, char *fmt, ...);
	int (*struct_add)(void *ctx, char *fmt, ...);
	int (*array_add)(void *ctx, char *fmt, ...);
	int (*struct_scan)(void *ctx, char *fmt, ...);
	int (*struct_printf)(void *ctx, char *name, char *fmt, ...);
	void *capabilities;
	void *delayed_ctx_new;
	void *delayed_ctx_close;
} kam_rpc_t;
_Static_assert(sizeof(kam_rpc_t) == 96, "rpc_t is 96 bytes");

/* ---- private (pkg) memory (mem/memapi.h, DBG_SR_MEMORY variant) ---- */
typedef struct kam_pkg_api {
	char *mname;
	char *mem_pool;
	void *mem_block;
	void *(*xmalloc)(void *mbp, size_t size, const char *file, const char *func, unsigned int line, const char *mname);
	void *(*xmallocxz)(void *mbp, size_t size, const char *file, const char *func, unsigned int line, const char *mname);
	void *xrealloc;
	void *xreallocxf;
	void (*xfree)(void *mbp, void *p, const char *file, const char *func, unsigned int line, const char *mname);
	void *rest[8];
} kam_pkg_api_t;
_Static_assert(sizeof(kam_pkg_api_t) == 128, "sr_pkg_api_t is 128 bytes");

extern kam_pkg_api_t _pkg_root;

/* ---- script callbacks (script_cb.h) ---- */
#define KAM_PRE_SCRIPT_CB (1U << 30)
#define KAM_REQUEST_CB 1
#define KAM_FAILURE_CB 2
#define KAM_ONREPLY_CB 4
#define KAM_BRANCH_CB 8
typedef int(kam_script_cb_t)(struct sip_msg *msg, unsigned int flags, void *param);

/* ---- core functions used by the glue ---- */
extern int register_script_cb(kam_script_cb_t *f, unsigned int flags, void *param);
extern int register_select_table(kam_select_row_t *table);

extern char *get_body(struct sip_msg *msg);
extern struct lump *del_lump(struct sip_msg *msg, int offset, int len, int type);
extern struct lump *anchor_lump(struct sip_msg *msg, int offset, int len, int type);
extern struct lump *insert_new_lump_after(struct lump *after, char *new_hdr, int len, int type);
extern int remove_lump(struct sip_msg *msg, struct lump *l); /* unlinks and frees a root lump */

extern int fixup_var_int_12(void **param, int param_no);
extern int fixup_var_pve_str_12(void **param, int param_no);
extern int fixup_spve_null(void **param, int param_no);
extern int fixup_free_fparam_all(void **param, int param_no);
extern int get_int_fparam(int *dst, struct sip_msg *msg, struct kam_fparam *param);
extern int get_str_fparam(kam_str_t *dst, struct sip_msg *msg, struct kam_fparam *param);

extern int register_procs(int no);
extern int cfg_register_child(int num);
extern int cfg_child_init(void);
extern int fork_process(int child_id, char *desc, int make_sock);
extern char *runtime_dir; /* -Y / runtime_dir: the proxy's private folder */

/* ---- event routes (route.h, fmsg.h, action.h) ----
 * struct route_list { struct action **rlist; int idx; int entries; struct str_hash_table names; }:
 * only rlist, its first member, is read. */
struct kam_action;
typedef struct kam_route_list {
	struct kam_action **rlist;
	int idx;
	int entries;
} kam_route_list_t;
_Static_assert(offsetof(kam_route_list_t, rlist) == 0, "route_list.rlist at 0");
extern kam_route_list_t event_rt;
extern int route_lookup(kam_route_list_t *rt, char *name); /* -1 when the script has no such route */
extern int route_type;
#define KAM_ONEVENT_ROUTE (1 << 9)
#define KAM_EVENT_ROUTE (KAM_REQUEST_ROUTE | KAM_ONEVENT_ROUTE)
extern int faked_msg_init(void);
extern struct sip_msg *faked_msg_next(void);
extern int run_top_route(struct kam_action *a, struct sip_msg *msg, void *ctx); /* ctx NULL: its own */
extern const char ver_version[]; /* the running core's version number, e.g. "5.6.3" (core/ver.c) */

/* ---- logging (dprint.h): the LM_* macros are reproduced in ipt_kam_log.c ---- */
#define KAM_L_ERR (-1)
#define KAM_L_WARN 0
#define KAM_L_NOTICE 1
#define KAM_L_INFO 2
#define KAM_L_DBG 3
extern int get_debug_level(char *mname, int mnlen);
extern int get_debug_facility(char *mname, int mnlen);
extern void (*_km_log_func)(int level, const char *fmt, ...);
extern int log_stderr;
extern kam_str_t *log_prefix_val;
extern int process_no;
extern int my_pid(void);

#endif /* IPT_KAM56_H */
