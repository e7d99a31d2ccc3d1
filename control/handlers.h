/*
 * The command handlers' shared part (control/handlers.c) and the handlers
 * of each subject: links, zones and addresses (control/cmd_link.c),
 * aggregations (control/cmd_aggr.c), tunnels (control/cmd_tunnel.c),
 * virtual network machines (control/cmd_vnm.c),
 * flows (control/cmd_flow.c), statistics, mirrors and captures
 * (control/cmd_observe.c).  A handler takes the parsed command, makes its
 * object calls and writes records; ctl_handle() writes the verdict.  It
 * returns 0 or a negative errno with a one-line reason in err.
 */
#ifndef VW_HANDLERS_H
#define VW_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/vwire.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

typedef int (*handler_fn)(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

/* Whether name is among the operands (true when there are none). */
bool in_operands(const struct vw_cmd *c, const char *name);
/* Every operand of a show command must name something that exists. */
int check_operands(const struct vw_cmd *c, bool (*exists)(const char *), const char *what, char *err, size_t errlen);
bool link_exists(const char *n);

/* links, zones and addresses (control/cmd_link.c) */
int do_create_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_create_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_link(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_phys(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_set_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_reset_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_create_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_create_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

/* link aggregations (control/cmd_aggr.c) */
int do_create_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_add_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_remove_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_modify_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_aggrstats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

/* tunnels (control/cmd_tunnel.c) */
int do_create_tunnel(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_tunnel(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_tunnel(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

/* virtual network machines (control/cmd_vnm.c) */
int do_create_vnm(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_vnm(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_vnm(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_set_vnmprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_reset_vnmprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

/* flows (control/cmd_flow.c) */
int do_add_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_remove_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_set_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_reset_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_flowstats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

/* statistics, mirrors and captures (control/cmd_observe.c) */
int do_stats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_create_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_delete_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_show_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int do_snoop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

/* the persistent configuration (control/handlers.c) */
int do_export(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

#endif
