/*
 * The plan of `vwadm apply` (control/plan.c): the input is a vWire file
 * (its first byte says whether to prune), planned against a fixed daemon
 * configuration that has an object of every kind.
 *
 * Checked: the plan is made or refused with an error naming the file; a
 * plan's first step starts an object (has a label); every command it
 * would run, and every command that would undo one, is in the grammar;
 * the counts add up to the objects named; nothing leaks.
 */
#include "fuzz/fuzz.h"
#include "control/plan.h"
#include "lib/vwire.h"

static const char CUR[] =
	"start-accounting -i 5 -f /tmp/h.db -r 1w\n"
	"create-zone z1\ncreate-zone z2\ncreate-zone r\n"
	"create-etherstub s0\ncreate-etherstub s1\n"
	"set-linkprop -p maxbw=500M,cpus=0 eth3\n"
	"create-aggr -l eth1 -l eth2 -P L4 -L active -T long ag\n"
	"set-linkprop -p maxbw=1G ag\n"
	"create-tunnel -T vxlan -a local=10.0.9.1,remote=10.0.9.2 -p vni=42 tn\n"
	"create-vnic -l s0 -m 02:08:20:00:00:01 -p zone=z1,maxbw=100M,priority=high a\n"
	"create-addr -a 10.1.0.1/24 a\ncreate-addr -a fd00:1::1/64 a\n"
	"create-vnic -l s0 -m random -r 02:08:20:00:00:02 -v 7 -p zone=z2,mtu=1400 b\n"
	"create-addr -a 10.1.0.2/24 b\n"
	"create-vnic -l s1 -m 02:08:20:00:00:03 -p zone=r r1\n"
	"create-vnic -l ag -m 02:08:20:00:00:04 -v 10 -p zone=r r2\n"
	"create-addr -a 10.2.0.1/24 r1\ncreate-addr -a 10.3.0.1/24 r2\n"
	"add-flow -l a -a transport=tcp,local_port=80 -p maxbw=10M,priority=low web\n"
	"create-vnm -T router -l r1,r2 -p route=10.9.0.0/24@10.3.0.9 r\n"
	"create-mirror -l a -d in -f 'tcp port 80' -t b m\n"
	"create-exporter -T ipfix -a collector=127.0.0.1:4739,active=60,idle=15,template=60,domain=1 -l a x\n";

static void check_cmd(const struct plan_cmd *pc, const char *what)
{
	struct vw_cmd c;
	char err[512];

	FUZZ_CHECK(pc->argc > 0 && pc->argv[pc->argc] == NULL, "%s: an empty command", what);
	FUZZ_CHECK(vw_cmd_parse(pc->argc, pc->argv, &c, err, sizeof(err)) == VW_OK, "%s '%s' is not in the grammar: %s",
		   what, pc->argv[0], err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vw_vardef vars[] = { { "P", "vw" }, { "N", "1" } };
	struct plan p;
	char err[1024] = "";
	int rc, i, j, objects;

	if (!size)
		return 0;
	rc = plan_make("f.vw", (const char *)data + 1, size - 1, vars, 2, CUR, sizeof(CUR) - 1, data[0] & 1, &p, err,
		       sizeof(err));
	if (rc) {
		FUZZ_CHECK(!strncmp(err, "f.vw:", 5), "an error that does not name the file: '%s'", err);
		return 0;
	}
	FUZZ_CHECK(!p.n || p.steps[0].label, "the first step starts no object");
	for (i = 0; i < p.n; i++) {
		check_cmd(&p.steps[i].run, "a step");
		for (j = 0; j < p.steps[i].nundo; j++)
			check_cmd(&p.steps[i].undo[j], "an undo");
	}
	for (objects = 0, i = 0; i < PLAN_NCOUNTS; i++) {
		FUZZ_CHECK(p.count[i] >= 0, "a negative count");
		objects += p.count[i];
	}
	FUZZ_CHECK(!objects == !p.n, "%d objects to do in %d steps", objects, p.n);
	plan_free(&p);
	return 0;
}
