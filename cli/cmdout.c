/*
 * vwadm's output tables: the fields of each kind of record (cli/output.h)
 * and, by command id, which records a reply prints and how.
 */
#include <stddef.h>

#include "cli/cmdout.h"

static const struct out_field link_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "CLASS", "class", 9, 0, NULL },
	{ "MTU", "mtu", 6, 0, NULL },
	{ "STATE", "state", 8, 0, NULL },
	{ "OVER", "over", 12, 0, NULL },
	{ "ZONE", "zone", 12, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field vnic_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "OVER", "over", 12, 0, NULL },
	{ "MACADDRESS", "macaddress", 17, 0, NULL },
	{ "MACADDRTYPE", "macaddrtype", 11, 0, NULL },
	{ "VID", "vid", 4, 0, "0" },
	{ "ZONE", "zone", 12, 0, NULL },
	{ "STATE", "state", 12, 0, NULL },
	{ "FACE", "face", 10, 0, NULL },
	{ "SOCKET", "socket", 30, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field etherstub_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "VNICS", "vnics", 20, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field phys_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "MEDIA", "media", 10, 0, NULL },
	{ "STATE", "state", 8, 0, NULL },
	{ "MTU", "mtu", 6, 0, NULL },
	{ "DEVICE", "device", 12, 0, NULL },
	{ "ATTACHED", "attached", 8, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field linkprop_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "PROPERTY", "property", 14, 0, NULL },
	{ "PERM", "perm", 4, 0, NULL },
	{ "VALUE", "value", 14, 0, NULL },
	{ "DEFAULT", "default", 14, 0, NULL },
	{ "POSSIBLE", "possible", 20, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field zone_fields[] = {
	{ "ZONE", "zone", 16, 0, NULL },
	{ "VNICS", "vnics", 20, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field addr_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "ZONE", "zone", 12, 0, NULL },
	{ "ADDR", "addr", 24, 0, NULL },
	{ "STATE", "state", 8, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field flow_fields[] = {
	{ "FLOW", "flow", 14, 0, NULL },
	{ "LINK", "link", 12, 0, NULL },
	{ "IPADDR", "ipaddr", 24, 0, NULL },
	{ "PROTO", "proto", 6, 0, NULL },
	{ "LPORT", "lport", 6, 0, NULL },
	{ "RPORT", "rport", 6, 0, NULL },
	{ "DSFLD", "dsfield", 9, 0, NULL },
	{ "ATTRS", "attrs", 30, 0, NULL },
	{ "TEMPORARY", "temporary", 9, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field accounting_fields[] = {
	{ "STATE", "state", 5, 0, NULL },
	{ "FILE", "file", 30, 0, NULL },
	{ "INTERVAL", "interval", 8, OUT_F_NUM, NULL },
	{ "RETENTION", "retention", 9, 0, NULL },
	{ "SAMPLES", "samples", 8, OUT_F_NUM, NULL },
	{ "ERRORS", "errors", 6, OUT_F_NUM, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field flowprop_fields[] = {
	{ "FLOW", "flow", 14, 0, NULL },
	{ "PROPERTY", "property", 10, 0, NULL },
	{ "VALUE", "value", 10, 0, NULL },
	{ "DEFAULT", "default", 10, 0, NULL },
	{ "POSSIBLE", "possible", 20, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field mirror_fields[] = {
	{ "MIRROR", "mirror", 12, 0, NULL },
	{ "LINKS", "links", 16, 0, NULL },
	{ "DIR", "dir", 4, 0, NULL },
	{ "FILTER", "filter", 16, 0, NULL },
	{ "DEST", "dest", 20, 0, NULL },
	{ "PKTS", "pkts", 8, 0, NULL },
	{ "BYTES", "bytes", 10, 0, NULL },
	{ "DROPS", "drops", 6, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field exporter_fields[] = {
	{ "EXPORTER", "exporter", 12, 0, NULL },
	{ "TYPE", "type", 5, 0, NULL },
	{ "COLLECTOR", "collector", 21, 0, NULL },
	{ "LINKS", "links", 16, 0, NULL },
	{ "FLOWS", "flows", 7, 0, NULL },
	{ "RECORDS", "records", 9, 0, NULL },
	{ "MESSAGES", "messages", 9, 0, NULL },
	{ "DROPS", "drops", 6, 0, NULL },
	{ "ACTIVE", "active", 6, 0, NULL },
	{ "IDLE", "idle", 5, 0, NULL },
	{ "TEMPLATE", "template", 8, 0, NULL },
	{ "DOMAIN", "domain", 10, 0, NULL },
	{ "EVICTED", "evicted", 8, 0, NULL },
	{ "CACHE", "cache", 8, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field aggr_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "POLICY", "policy", 9, 0, NULL },
	{ "LACPACTIVITY", "lacpactivity", 12, 0, NULL },
	{ "LACPTIMER", "lacptimer", 9, 0, NULL },
	{ "STATE", "state", 6, 0, NULL },
	{ "PORTS", "ports", 20, 0, NULL },
	{ "VNICS", "vnics", 5, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field aggrport_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "PORT", "port", 12, 0, NULL },
	{ "STATE", "state", 6, 0, NULL },
	{ "ADDRESS", "address", 17, 0, NULL },
	{ "PORTSTATE", "portstate", 9, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field aggrlacp_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "PORT", "port", 12, 0, NULL },
	{ "AGGREGATABLE", "aggregatable", 12, 0, NULL },
	{ "SYNC", "sync", 4, 0, NULL },
	{ "COLL", "coll", 4, 0, NULL },
	{ "DIST", "dist", 4, 0, NULL },
	{ "DEFAULTED", "defaulted", 9, 0, NULL },
	{ "EXPIRED", "expired", 7, 0, NULL },
	{ "SELECTED", "selected", 8, 0, NULL },
	{ "RXSTATE", "rxstate", 13, 0, NULL },
	{ "MUXSTATE", "muxstate", 23, 0, NULL },
	{ "ACTORSTATE", "actorstate", 10, 0, NULL },
	{ "PARTNERSTATE", "partnerstate", 12, 0, NULL },
	{ "PARTNERSYSTEM", "partnersystem", 17, 0, NULL },
	{ "PARTNERKEY", "partnerkey", 10, 0, NULL },
	{ "PARTNERPORT", "partnerport", 11, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field tunnel_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "TYPE", "type", 5, 0, NULL },
	{ "VNI", "vni", 8, 0, NULL },
	{ "LOCAL", "local", 15, 0, NULL },
	{ "DSTPORT", "dstport", 7, 0, NULL },
	{ "REMOTES", "remotes", 20, 0, NULL },
	{ "MTU", "mtu", 5, 0, NULL },
	{ "UNDERLAY", "underlay", 12, 0, NULL },
	{ "VNICS", "vnics", 5, 0, NULL },
	{ "LEARNED", "learned", 7, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field tunnelfdb_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "MACADDRESS", "macaddress", 17, 0, NULL },
	{ "REMOTE", "remote", 15, 0, NULL },
	{ "TYPE", "type", 7, 0, NULL },
	{ "IDLE", "idle", 5, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field vnm_fields[] = {
	{ "VNM", "vnm", 12, 0, NULL },
	{ "TYPE", "type", 8, 0, NULL },
	{ "ZONE", "zone", 12, 0, NULL },
	{ "LINKS", "links", 16, 0, NULL },
	{ "PROPS", "props", 30, 0, NULL },
	{ "STATE", "state", 8, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field vnmelem_fields[] = {
	{ "VNM", "vnm", 12, 0, NULL },
	{ "ELEMENT", "element", 7, 0, NULL },
	{ "WHAT", "what", 36, 0, NULL },
	{ "STATE", "state", 7, 0, NULL },
	{ "PKTS", "pkts", 8, 0, NULL },
	{ "BYTES", "bytes", 10, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct cmd_out vnmelem_out = { "vnmelem", vnmelem_fields, NULL, 'p', { 0 }, { NULL } };

static const struct cmd_out tunnelfdb_out = { "tunnelfdb", tunnelfdb_fields, NULL, 'p', { 0 }, { NULL } };

static const struct cmd_out aggrport_out = { "aggrport", aggrport_fields, NULL, 'p', { 0 }, { NULL } };
static const struct cmd_out aggrlacp_out = { "aggrlacp", aggrlacp_fields,
					     "link,port,aggregatable,sync,coll,dist,defaulted,expired", 'p', { 0 }, { NULL } };

/*
 * How each command's reply is printed, by id; what kind of reply it is comes
 * with its grammar (vw_cmd_def(id)->out).  A table (VW_OUT_TABLE) has
 * fields: its -o and parsable option (-p, or -c for show-linkprop) are
 * checked before anything is sent.
 */
static const struct cmd_out cmd_outs[VW_CMD_COUNT] = {
	[VW_CMD_SHOW_LINK] = { "link", link_fields, NULL, 'p' },
	[VW_CMD_SHOW_VNIC] = { "vnic", vnic_fields, "link,over,macaddress,macaddrtype,vid,zone", 'p' },
	[VW_CMD_SHOW_ETHERSTUB] = { "etherstub", etherstub_fields, NULL, 'p' },
	[VW_CMD_SHOW_PHYS] = { "phys", phys_fields, NULL, 'p' },
	[VW_CMD_SHOW_LINKPROP] = { "linkprop", linkprop_fields, NULL, 'c' },
	[VW_CMD_SHOW_ZONE] = { "zone", zone_fields, NULL, 'p' },
	[VW_CMD_SHOW_ADDR] = { "addr", addr_fields, NULL, 'p' },
	[VW_CMD_SHOW_FLOW] = { "flow", flow_fields, "flow,link,ipaddr,proto,lport,rport,dsfld", 'p' },
	[VW_CMD_SHOW_FLOWPROP] = { "flowprop", flowprop_fields, NULL, 'c' },
	[VW_CMD_EXPORT] = { "line", NULL, NULL, 0 },
	[VW_CMD_APPLY] = { "line", NULL, NULL, 0 },
	[VW_CMD_SHOW_ACCOUNTING] = { "accounting", accounting_fields, "state,file,interval,retention,samples", 'p' },
	[VW_CMD_SHOW_MIRROR] = { "mirror", mirror_fields, NULL, 'p' },
	[VW_CMD_SHOW_AGGR] = { "aggr", aggr_fields, NULL, 'p', { 'x', 'L' }, { &aggrport_out, &aggrlacp_out } },
	[VW_CMD_SHOW_TUNNEL] = { "tunnel", tunnel_fields, "link,type,vni,local,dstport,remotes,mtu,vnics", 'p', { 'x' },
				 { &tunnelfdb_out } },
	[VW_CMD_SHOW_VNM] = { "vnm", vnm_fields, NULL, 'p', { 'x' }, { &vnmelem_out } },
	[VW_CMD_SHOW_EXPORTER] = { "exporter", exporter_fields, "exporter,type,collector,links,flows,records,messages,drops", 'p' },
};

const struct cmd_out *cmd_out(enum vw_cmd_id id)
{
	return (unsigned)id < VW_CMD_COUNT && cmd_outs[id].rectype ? &cmd_outs[id] : NULL;
}

const struct cmd_out *cmd_out_for(const struct cmd_out *co, const struct vw_cmd *c)
{
	int i;

	for (i = 0; co && i < 2; i++)
		if (co->alt_opt[i] && vw_cmd_opt(c, co->alt_opt[i]))
			return co->alt[i];
	return co;
}
