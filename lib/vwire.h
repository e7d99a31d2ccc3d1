/*
 * libvwire: the public face of the vwire library.
 *
 * The library owns the types every program shares: status codes and their
 * messages, validation and string<->value conversion (names, MACs, VIDs,
 * bandwidths, addresses), the vwadm command grammar (lib/cmd.c) and the
 * client side of the control protocol (lib/client.c).  The daemon and the
 * CLIs only ever talk through these.
 *
 * No function here keeps global state; all of it is safe to call from any
 * thread.
 */
#ifndef VWIRE_H
#define VWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define VW_DEFAULT_SOCKET "/run/vwire/vwired.sock"
#define VW_DEFAULT_STATE_DIR "/var/lib/vwire"
#define VW_STATE_FILE "vwire.conf"

#define VW_LINKNAME_MAX 15 /* as IFNAMSIZ - 1 */
#define VW_FLOWNAME_MAX 31
#define VW_ZONENAME_MAX 31
#define VW_VID_MAX 4094
#define VW_MAC_PREFIX_DEFAULT "02:08:20"

/* ---- status codes (lib/status.c) ---- */
typedef enum {
	VW_OK = 0,
	VW_E_INVAL,    /* a value is malformed */
	VW_E_USAGE,    /* the command itself is malformed */
	VW_E_NOENT,    /* object not found */
	VW_E_EXIST,    /* object already exists */
	VW_E_BUSY,     /* object in use */
	VW_E_NOTSUP,   /* not supported (yet) */
	VW_E_PERM,     /* not permitted */
	VW_E_NOMEM,    /* out of memory or other resources */
	VW_E_SYS,      /* a system call failed */
	VW_E_NODAEMON, /* no daemon answers on the socket */
	VW_E_PROTO,    /* malformed message on the control socket */
	VW_E_COUNT
} vw_status_t;

const char *vw_strstatus(vw_status_t st);
vw_status_t vw_errno2status(int err);
/* Exit code a CLI uses for a status: 0 ok, 2 usage, 1 anything else. */
int vw_status_exit(vw_status_t st);

/* ---- values (lib/parse.c) ---- */

/* Link names: 1..15 chars of [A-Za-z0-9_.-], starting with a letter. */
bool vw_linkname_valid(const char *s);
/* Flow names: 1..31 chars, same alphabet and first-letter rule. */
bool vw_flowname_valid(const char *s);
/* Zone names: 1..31 chars of [A-Za-z0-9_.-], starting with a letter. */
bool vw_zonename_valid(const char *s);

/* The value of a hex digit (either case), -1 for anything else. */
int vw_hex_digit(char c);
/* "02:08:20:aa:bb:cc" (one or two hex digits per octet, : or - separators). */
bool vw_mac_parse(const char *s, uint8_t mac[6]);
/* A prefix of 1..5 octets, e.g. "02:08:20"; *len gets the octet count. */
bool vw_macprefix_parse(const char *s, uint8_t prefix[6], int *len);
/* Lower-case, two digits per octet, ':' separated; buf >= 18 bytes. */
char *vw_mac_format(const uint8_t mac[6], char *buf);
bool vw_mac_is_multicast(const uint8_t mac[6]);

/* VLAN ID 1..4094, decimal only. */
bool vw_vid_parse(const char *s, uint16_t *vid);

/*
 * Bandwidth in bits per second: a decimal number (fraction allowed) with an
 * optional unit K, M or G (case-insensitive, powers of 1000); a bare number
 * means Mb/s, as in dladm.  Rejects zero, negatives, junk and overflow.
 */
bool vw_bw_parse(const char *s, uint64_t *bps);
/* "100K", "1.5M", "10G": the shortest exact form; buf >= 32 bytes. */
char *vw_bw_format(uint64_t bps, char *buf);

/* An IPv4 or IPv6 address with a prefix length. */
struct vw_prefix {
	int family;   /* AF_INET or AF_INET6 */
	uint8_t plen; /* 0..32 or 0..128 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	} addr;
};
/* "10.0.0.1/24", "fd00::1/64".  If the "/N" is missing, fails unless
 * allow_host is set, in which case the full length is assumed. */
bool vw_prefix_parse(const char *s, bool allow_host, struct vw_prefix *p);
/* Canonical text "10.0.0.1/24"; buf >= 64 bytes. */
char *vw_prefix_format(const struct vw_prefix *p, char *buf);
/* Why p cannot be an interface's address ("an unspecified address",
 * "a multicast address", ...), or NULL when it can. */
const char *vw_ifaddr_unusable(const struct vw_prefix *p);
bool vw_prefix_equal(const struct vw_prefix *a, const struct vw_prefix *b);

/* Unsigned decimal within [min, max]; no sign, no junk. */
bool vw_uint_parse(const char *s, uint64_t min, uint64_t max, uint64_t *v);

/*
 * "PROP=VAL[,PROP=VAL...]" split in place into up to max pairs.  Returns the
 * number of pairs, or -1 if a piece has no '=' or an empty name.
 */
int vw_kvlist_split(char *s, char **keys, char **vals, int max);
/*
 * The same for link properties, dladm's way: a piece with no '=' continues
 * the value before it when that property takes a list (its name is in
 * lists, NULL-terminated), so "cpus=0,2,mtu=1400" is cpus "0,2" and mtu
 * "1400" (the value's own parser judges it: "cpus=0,,1" is cpus "0,,1").
 * -1 as above, or for such a piece after any other property.
 */
int vw_proplist_split(char *s, char **keys, char **vals, int max, const char *const *lists);

/*
 * A set of CPUs, numbered 0..VW_CPUS_MAX-1, and its text form as taskset -c
 * and /sys/devices/system/cpu/online write it: "0-3,8,10-11".
 */
#define VW_CPUS_MAX 1024
struct vw_cpuset {
	uint64_t w[VW_CPUS_MAX / 64];
};
static inline void vw_cpuset_add(struct vw_cpuset *s, unsigned c)
{
	if (c < VW_CPUS_MAX)
		s->w[c / 64] |= 1ULL << (c % 64);
}
static inline bool vw_cpuset_has(const struct vw_cpuset *s, unsigned c)
{
	return c < VW_CPUS_MAX && (s->w[c / 64] >> (c % 64) & 1);
}
static inline bool vw_cpuset_empty(const struct vw_cpuset *s)
{
	unsigned i;

	for (i = 0; i < VW_CPUS_MAX / 64; i++)
		if (s->w[i])
			return false;
	return true;
}
/* Comma-separated CPUs and ranges LOW-HIGH (LOW <= HIGH), decimal, each
 * below VW_CPUS_MAX; no blanks, not empty.  Repeats and overlaps are fine. */
bool vw_cpulist_parse(const char *s, struct vw_cpuset *set);
/* The shortest form, ascending ("0-1,3"; "" when empty).  NULL if it does
 * not fit in len bytes. */
char *vw_cpulist_format(const struct vw_cpuset *set, char *buf, size_t len);

/* ---- flows (lib/flow.c) ---- */

/*
 * A flow's attributes (SPEC §4): the packets of one link it matches.  Every
 * attribute given is a constraint; a packet matches when it meets all of
 * them.  "local" is the link's own side: the source of what the link sends,
 * the destination of what it receives (for a phys link, the host's side).
 */
#define VW_FA_TRANSPORT   0x01
#define VW_FA_LOCAL_IP    0x02
#define VW_FA_REMOTE_IP   0x04
#define VW_FA_LOCAL_PORT  0x08
#define VW_FA_REMOTE_PORT 0x10
#define VW_FA_DSFIELD     0x20

struct vw_flow_attrs {
	uint8_t mask;            /* VW_FA_* given */
	uint8_t proto;           /* IP protocol number (transport) */
	uint8_t dsfield, dsmask; /* DS byte (DSCP << 2 | ECN): value, mask */
	uint16_t lport, rport;   /* 1..65535 */
	struct vw_prefix local, remote; /* no host bits set */
};

/*
 * "transport=tcp,local_port=80".  Checks each value
 * and the combination rules: an attribute at most once, ports only with
 * transport tcp, udp or sctp, local_ip and remote_ip of one family, icmp
 * with IPv4 and icmpv6 with IPv6 only.  false with a one-line reason in err
 * ("unknown attribute 'foo'").
 */
bool vw_flow_attrs_parse(const char *list, struct vw_flow_attrs *a, char *err, size_t errlen);
/* Canonical text, as the parser takes it back; buf >= 256 bytes. */
char *vw_flow_attrs_format(const struct vw_flow_attrs *a, char *buf, size_t len);
/* Address family the attributes imply (AF_INET, AF_INET6), 0 for none. */
int vw_flow_attrs_family(const struct vw_flow_attrs *a);
/*
 * Whether some packet could match both: the implied families agree, and for
 * every attribute both constrain, the values intersect (prefixes nest,
 * transports and ports are equal, DS values agree on the bits both masks
 * have).  An attribute only one of them constrains does not separate them.
 */
bool vw_flow_attrs_overlap(const struct vw_flow_attrs *a, const struct vw_flow_attrs *b);
bool vw_flow_attrs_equal(const struct vw_flow_attrs *a, const struct vw_flow_attrs *b);
/* "tcp", "icmpv6", ...; NULL for a protocol without a name here. */
const char *vw_flow_proto_name(uint8_t proto);

/*
 * Flow properties (SPEC §4).  The table lists each with whether the
 * datapath enforces it yet: a property that is not enforced is refused by
 * add-flow -p and set-flowprop ("property 'maxbw' is not supported yet")
 * rather than accepted and ignored.
 */
enum vw_flowprop_id {
	VW_FP_MAXBW, VW_FP_PRIORITY, VW_FP_GUARANTEE, VW_FP_MAXCONN, VW_FP_MSS, VW_FP_FAIRNESS, VW_FP_COUNT
};
enum vw_priority { VW_PRIO_MEDIUM = 0, VW_PRIO_HIGH, VW_PRIO_LOW };
enum vw_fairness { VW_FAIR_NONE = 0, VW_FAIR_CONN };

#define VW_FLOW_MSS_MIN 536
#define VW_FLOW_MSS_MAX 65495
#define VW_FLOW_MAXCONN_MAX 4294967295ULL

/* Values of the properties that are set (bit 1 << VW_FP_x in set). */
struct vw_flowprops {
	unsigned set;
	uint64_t maxbw, guarantee; /* bits per second */
	uint32_t maxconn;
	uint16_t mss;
	uint8_t priority;          /* enum vw_priority */
	uint8_t fairness;          /* enum vw_fairness */
};

struct vw_flowpropdef {
	const char *name;
	enum vw_flowprop_id id;
	bool enforced;        /* false: refused by add-flow -p, set-flowprop */
	const char *deflt;    /* for show-flowprop ("" when none) */
	const char *possible; /* for show-flowprop */
};
const struct vw_flowpropdef *vw_flowprop_table(int *n);
const struct vw_flowpropdef *vw_flowprop_find(const char *name);
/* Parses one value into p (and marks it set); false with a reason in err
 * naming the value and what is allowed. */
bool vw_flowprop_parse(const struct vw_flowpropdef *pd, const char *value, struct vw_flowprops *p, char *err,
		       size_t errlen);
/* The value as text ("" when not set); buf >= 32 bytes. */
char *vw_flowprop_format(const struct vw_flowpropdef *pd, const struct vw_flowprops *p, char *buf, size_t len);

/* ---- vWire files (lib/vwfile.c) ---- */

/*
 * Reads a vWire file one logical line at a time: '#' comments, blank lines,
 * '\' at end of line continues it, words split on blanks (single and double
 * quotes group), ${VAR} replaced from the definitions given.  An undefined
 * variable or unterminated quote is an error naming the line.
 */
struct vw_vwfile;
struct vw_vardef {
	const char *name;
	const char *value;
};
/*
 * The len bytes at buf are the file's contents, bytes not a C string: a NUL
 * byte among them is an error naming its line ("NUL byte in line"), never an
 * early end.  The reader keeps its own copy.
 */
struct vw_vwfile *vw_vwfile_open_mem(const void *buf, size_t len, const char *filename, const struct vw_vardef *vars,
				     int nvars);
/*
 * Next command: 1 and argv filled (argc words, pointers into the reader's own
 * storage, valid until the next call), 0 at end, -1 on error (err filled with
 * "FILE:LINE: reason").  *lineno gets the line the command started on.
 */
int vw_vwfile_next(struct vw_vwfile *f, int *argc, char ***argv, int *lineno, char *err, size_t errlen);
void vw_vwfile_close(struct vw_vwfile *f);
/* A file's bytes as one protocol word (vwadm apply sends the file whole):
 * '\\', newline, carriage return and NUL become \\ \n \r \0.
 * vw_text_unescape undoes it in place: the length, or -1 on a bad escape. */
struct vw_buf;
void vw_text_escape(const char *p, size_t len, struct vw_buf *out);
long vw_text_unescape(char *s);
/* Quote a word for a vWire line if it needs it (blanks, quotes, #, $, \). */
char *vw_word_quote(const char *w, char *buf, size_t len);

/* ---- CRC-32 (lib/crc32.c) ---- */

/* zlib's crc32(): start with 0, feed the bytes in pieces if need be. */
uint32_t vw_crc32(uint32_t crc, const void *buf, size_t len);

/* ---- the vwadm command grammar (lib/cmd.c) ---- */

/*
 * What a client must be to run a command over the control socket (the
 * daemon checks it from the peer's SO_PEERCRED; docs/protocol.md,
 * "Permissions").  The default (0) is the strictest, so a command added
 * without thought is for administrators only.
 */
enum vw_priv {
	VW_PRIV_ADMIN = 0, /* changes: root or CAP_NET_ADMIN */
	VW_PRIV_READ,      /* read-only: anyone who can open the socket */
	VW_PRIV_CAPTURE,   /* captures: root or CAP_NET_RAW */
};
/* "root or CAP_NET_ADMIN", as a refusal names what is missing. */
const char *vw_priv_needs(enum vw_priv p);

/*
 * Every subcommand has an id: the grammar (vw_cmd_def), the daemon's handler
 * (control/handlers.c) and vwadm's output (cli/cmdout.c) are tables indexed
 * by it, and tests/unit/test_cmdtable.c checks that they agree.  The order
 * is `vwadm help`'s.
 */
enum vw_cmd_id {
	VW_CMD_CREATE_ETHERSTUB, VW_CMD_DELETE_ETHERSTUB, VW_CMD_SHOW_ETHERSTUB,
	VW_CMD_CREATE_VNIC, VW_CMD_DELETE_VNIC, VW_CMD_SHOW_VNIC,
	VW_CMD_SHOW_LINK, VW_CMD_SHOW_PHYS,
	VW_CMD_SET_LINKPROP, VW_CMD_RESET_LINKPROP, VW_CMD_SHOW_LINKPROP,
	VW_CMD_CREATE_ZONE, VW_CMD_DELETE_ZONE, VW_CMD_SHOW_ZONE,
	VW_CMD_CREATE_ADDR, VW_CMD_DELETE_ADDR, VW_CMD_SHOW_ADDR,
	VW_CMD_EXPORT,
	VW_CMD_CREATE_AGGR, VW_CMD_ADD_AGGR, VW_CMD_REMOVE_AGGR, VW_CMD_MODIFY_AGGR, VW_CMD_DELETE_AGGR,
	VW_CMD_SHOW_AGGR,
	VW_CMD_CREATE_TUNNEL, VW_CMD_DELETE_TUNNEL, VW_CMD_SHOW_TUNNEL,
	VW_CMD_CREATE_VNM, VW_CMD_DELETE_VNM, VW_CMD_SHOW_VNM, VW_CMD_SET_VNMPROP, VW_CMD_RESET_VNMPROP,
	VW_CMD_ADD_FLOW, VW_CMD_REMOVE_FLOW, VW_CMD_SET_FLOWPROP, VW_CMD_RESET_FLOWPROP, VW_CMD_SHOW_FLOW,
	VW_CMD_SHOW_FLOWPROP,
	VW_CMD_START_ACCOUNTING, VW_CMD_STOP_ACCOUNTING, VW_CMD_SHOW_ACCOUNTING,
	VW_CMD_CREATE_MIRROR, VW_CMD_DELETE_MIRROR, VW_CMD_SHOW_MIRROR,
	VW_CMD_CREATE_EXPORTER, VW_CMD_DELETE_EXPORTER, VW_CMD_SHOW_EXPORTER,
	VW_CMD_APPLY,
	VW_CMD_STATS, VW_CMD_FLOWSTATS, VW_CMD_AGGRSTATS, VW_CMD_SNOOP,
	VW_CMD_COUNT
};

/* What a command's successful reply holds, for the client to print. */
enum vw_cmd_out {
	VW_OUT_NONE,    /* only the verdict */
	VW_OUT_TABLE,   /* records of one type: a show-* table (cli/cmdout.c) */
	VW_OUT_LINES,   /* records "line", text= each: export */
	VW_OUT_RECORDS, /* records for an internal client (vwstat) */
	VW_OUT_STREAM,  /* the verdict, then a pcap stream (vwsnoop) */
};

/*
 * One entry per subcommand.  Options are single letters; opts lists them as
 * getopt does ("tl:m:": -t is a flag, -l and -m take a value).  Options in
 * repeat may be given more than once.  Options and operands may be mixed.
 */
struct vw_cmddef {
	enum vw_cmd_id id;
	const char *name;
	const char *opts;
	const char *repeat;
	int min_operands, max_operands; /* max -1: any number */
	const char *usage;              /* NULL: internal, not listed */
	bool implemented;
	const char *required;           /* options that must be given */
	enum vw_priv priv;              /* who may run it (the one table) */
	enum vw_cmd_out out;            /* what its reply holds */
};

#define VW_CMD_MAXOPT 64
#define VW_CMD_MAXOPERAND 16

struct vw_cmd {
	const struct vw_cmddef *def;
	int nopt;
	struct {
		char opt;
		const char *val; /* "" for a flag */
	} opt[VW_CMD_MAXOPT];
	int noperand;
	const char *operand[VW_CMD_MAXOPERAND];
};

const struct vw_cmddef *vw_cmd_table(int *n);
const struct vw_cmddef *vw_cmd_find(const char *name);
/* The entry of id (NULL past VW_CMD_COUNT). */
const struct vw_cmddef *vw_cmd_def(enum vw_cmd_id id);
/*
 * Parses argv[0] (the subcommand) and its arguments; pointers in *c point
 * into argv.  VW_E_USAGE with a one-line reason in err ("option -x needs a
 * value", "unknown subcommand 'foo'") when the command is malformed.
 */
vw_status_t vw_cmd_parse(int argc, char *const argv[], struct vw_cmd *c, char *err, size_t errlen);
/* The last value given for opt (or "" for a flag), NULL when absent. */
const char *vw_cmd_opt(const struct vw_cmd *c, char opt);
/* Every value given for opt, in order; returns how many (<= max). */
int vw_cmd_optall(const struct vw_cmd *c, char opt, const char **vals, int max);

/* ---- client side of the control protocol (lib/client.c) ---- */

/*
 * Wire format: UTF-8 text lines "key=value"; a message ends with an empty
 * line.  A request is the command's words, one "arg=WORD" line each.  A reply
 * is zero or more records, each starting with "record=TYPE" and followed by
 * its fields, then "status=N" (a vw_status_t) and "message=TEXT".
 */
#define VW_MSG_MAX (1 << 20) /* largest request or reply, in bytes */
#define VW_REQ_MAX (4 << 20) /* a vwadm apply request carries its whole file */

struct vw_record {
	char *type;
	int n;
	char **keys;
	char **vals;
};

struct vw_reply {
	vw_status_t status;
	char *message; /* "" when none */
	int nrec;
	struct vw_record *recs;
	char *raw;
};

struct vw_handle;

/* The socket a client uses: override, else $VWIRE_SOCKET, else the default. */
const char *vw_socket_path(const char *override);
/* A one-line explanation naming the socket in err when it fails:
 * VW_E_NODAEMON when no daemon answers (no socket, or nobody listens on it),
 * VW_E_PERM when the socket is not open to the caller (saying who it is
 * for), VW_E_SYS for anything else.  A connection the daemon later closes
 * for idleness is opened again by the next vw_call. */
vw_status_t vw_open(const char *sockpath, struct vw_handle **h, char *err, size_t errlen);
void vw_close(struct vw_handle *h);
/* Sends one command and waits for its reply; reply->status is the daemon's
 * verdict, the return value the transport's: VW_E_INVAL for a word with a
 * line break, VW_E_USAGE for a request over VW_REQ_MAX bytes. */
vw_status_t vw_call(struct vw_handle *h, int argc, char *const argv[], struct vw_reply *reply);
/* Like vw_call, for a command whose successful reply is followed by a
 * stream on the same connection (snoop: a pcap file): reads exactly the
 * reply and, when its status is VW_OK, gives the connection in *fd (owned by
 * h; reads on it no longer time out). */
vw_status_t vw_call_stream(struct vw_handle *h, int argc, char *const argv[], struct vw_reply *reply, int *fd);
/* Parses a reply's text (raw, cut up in place) into records, status and
 * message; reply must start zeroed, with message set to "" by the caller
 * (it is left as it was when the reply has no message line).  Used by vw_call and by the daemon's
 * own readers of its replies (observability/metrics.c). */
vw_status_t vw_reply_parse(char *raw, struct vw_reply *reply);
void vw_reply_free(struct vw_reply *reply);
const char *vw_record_get(const struct vw_record *r, const char *key);

/* A growing text buffer for building messages (lib/client.c). */
struct vw_buf {
	char *p;
	size_t len, cap;
	bool oom;
};
void vw_buf_printf(struct vw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "key=value\n", with any control character in value replaced by a
 * space so the line cannot be split. */
void vw_buf_kv(struct vw_buf *b, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Appends n bytes as they are (NULs included); the text stays
 * NUL-terminated after them. */
void vw_buf_append(struct vw_buf *b, const void *p, size_t n);
void vw_buf_free(struct vw_buf *b);

#endif
