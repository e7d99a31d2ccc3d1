/*
 * Unit tests for control/plan.c: the plan of `vwadm apply`, from a file's
 * text and the daemon's export, with nothing run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/plan.h"

struct run {
	struct plan p;
	char err[1024];
	int rc;
	char text[16384]; /* every step: "label|run|undo;undo\n" */
};

static void plan(struct run *r, const char *file, const char *cur, bool prune)
{
	size_t used = 0;
	int i, j;

	memset(r, 0, sizeof(*r));
	r->rc = plan_make("t.vw", file, strlen(file), NULL, 0, cur, strlen(cur), prune, &r->p, r->err, sizeof(r->err));
	for (i = 0; !r->rc && i < r->p.n; i++) {
		char a[1024], b[1024];

		used += (size_t)snprintf(r->text + used, sizeof(r->text) - used, "%s|%s|",
					 r->p.steps[i].label ? r->p.steps[i].label : "",
					 plan_cmd_text(&r->p.steps[i].run, a, sizeof(a)));
		for (j = 0; j < r->p.steps[i].nundo; j++)
			used += (size_t)snprintf(r->text + used, sizeof(r->text) - used, "%s%s", j ? ";" : "",
						 plan_cmd_text(&r->p.steps[i].undo[j], b, sizeof(b)));
		used += (size_t)snprintf(r->text + used, sizeof(r->text) - used, "\n");
	}
}

static void done(struct run *r)
{
	plan_free(&r->p);
}

static void expect_plan(const char *file, const char *cur, bool prune, const char *steps)
{
	struct run r;

	plan(&r, file, cur, prune);
	if (r.rc)
		print_error("unexpected error: %s\n", r.err);
	assert_int_equal(r.rc, 0);
	if (strcmp(r.text, steps))
		print_error("plan:\n%s\nexpected:\n%s\n", r.text, steps);
	assert_string_equal(r.text, steps);
	done(&r);
}

static void expect_error(const char *file, const char *cur, bool prune, const char *err)
{
	struct run r;

	plan(&r, file, cur, prune);
	assert_int_not_equal(r.rc, 0);
	assert_string_equal(r.err, err);
	done(&r);
}

static const char *const CUR = "create-zone z1\n"
			       "create-etherstub st0\n"
			       "create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z1,maxbw=100M v1\n"
			       "create-addr -a 10.0.0.1/24 v1\n"
			       "add-flow -l v1 -a transport=tcp,local_port=80 -p maxbw=10M web\n";

/* The export itself, and the same written the way a person would. */
static void test_nothing_to_change(void **state)
{
	struct run r;

	(void)state;
	plan(&r, CUR, CUR, false);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.p.n, 0);
	assert_int_equal(r.p.same, 5);
	done(&r);
	expect_plan("# the same, by hand\n"
		    "create-zone z1\ncreate-etherstub st0\n"
		    "create-vnic -l st0 -v 5 -p zone=z1 \\\n    v1\n"
		    "set-linkprop -p maxbw=100 v1\n"
		    "create-addr -a 10.0.0.1/24 v1\n"
		    "add-flow -l v1 -a local_port=80,transport=tcp -p maxbw=10000K web\n",
		    CUR, false, "");
}

static void test_create(void **state)
{
	(void)state;
	expect_plan("create-etherstub st1\ncreate-vnic -l st1 -m 02:00:00:00:00:09 -p priority=high v9\n", CUR, false,
		    "create etherstub st1|create-etherstub st1|delete-etherstub st1\n"
		    "create vnic v9|create-vnic -l st1 -m 02:00:00:00:00:09 -p priority=high v9|delete-vnic v9\n");
}

/* Properties change in place, each undone by its old value. */
static void test_change_in_place(void **state)
{
	(void)state;
	expect_plan("create-zone z1\ncreate-etherstub st0\n"
		    "create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z1,maxbw=200M,cpus=0 v1\n"
		    "create-addr -a 10.0.0.1/24 v1\n"
		    "add-flow -l v1 -a transport=tcp,local_port=80 web\n",
		    CUR, false,
		    "change vnic v1: maxbw 100M -> 200M, cpus (default) -> 0|set-linkprop -p maxbw=200M v1|"
		    "set-linkprop -p maxbw=100M v1\n"
		    "|set-linkprop -p cpus=0 v1|reset-linkprop -p cpus v1\n"
		    "change flow web: maxbw 10M -> (default)|reset-flowprop -p maxbw web|set-flowprop -p maxbw=10M web\n");
}

/* A VID cannot change in place: the VNIC is made again, and with it what
 * depends on it, the file's way or, when the file does not name it, as it
 * was. */
static void test_replace_takes_dependents(void **state)
{
	(void)state;
	expect_plan("create-zone z1\ncreate-etherstub st0\n"
		    "create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 6 -p zone=z1,maxbw=100M v1\n"
		    "create-addr -a 10.0.0.1/24 v1\n",
		    CUR, false,
		    "recreate flow web (vnic v1 is replaced)|remove-flow web|"
		    "add-flow -l v1 -a transport=tcp,local_port=80 -p maxbw=10M web\n"
		    "replace addr 10.0.0.1/24 v1 (vnic v1 is replaced)|delete-addr -a 10.0.0.1/24 v1|"
		    "create-addr -a 10.0.0.1/24 v1\n"
		    "replace vnic v1: -l st0 -v 6 -m random/02:08:20:aa:bb:cc (was -l st0 -v 5 -m random/02:08:20:aa:bb:cc)|"
		    "delete-vnic v1|create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z1,maxbw=100M v1\n"
		    "|create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 6 -p zone=z1,maxbw=100M v1|delete-vnic v1\n"
		    "|create-addr -a 10.0.0.1/24 v1|delete-addr -a 10.0.0.1/24 v1\n"
		    "|add-flow -l v1 -a transport=tcp,local_port=80 -p maxbw=10M web|remove-flow web\n");
}

/* A random MAC: any address with the prefix asked for will do. */
static void test_mac(void **state)
{
	(void)state;
	expect_plan("create-vnic -l st0 -v 5 -p zone=z1,maxbw=100M v1\n", CUR, false, "");
	expect_plan("create-vnic -l st0 -m random -r 02:08:20 -v 5 -p zone=z1,maxbw=100M v1\n", CUR, false, "");
	expect_plan("create-vnic -l st0 -m random -r 02:08:21 -v 5 -p zone=z1,maxbw=100M v1\n", CUR, false,
		    "recreate flow web (vnic v1 is replaced)|remove-flow web|"
		    "add-flow -l v1 -a transport=tcp,local_port=80 -p maxbw=10M web\n"
		    "recreate addr 10.0.0.1/24 v1 (vnic v1 is replaced)|delete-addr -a 10.0.0.1/24 v1|"
		    "create-addr -a 10.0.0.1/24 v1\n"
		    "replace vnic v1: -l st0 -v 5 -m random/02:08:21 (was -l st0 -v 5 -m random/02:08:20:aa:bb:cc)|"
		    "delete-vnic v1|create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z1,maxbw=100M v1\n"
		    "|create-vnic -l st0 -m random -r 02:08:21 -v 5 -p zone=z1,maxbw=100M v1|delete-vnic v1\n"
		    "|create-addr -a 10.0.0.1/24 v1|delete-addr -a 10.0.0.1/24 v1\n"
		    "|add-flow -l v1 -a transport=tcp,local_port=80 -p maxbw=10M web|remove-flow web\n");
}

/* --prune deletes what the file does not name, of the kinds it names (and
 * what cannot stay without it). */
static void test_prune(void **state)
{
	(void)state;
	expect_plan("create-etherstub st1\n", CUR, true,
		    "create etherstub st1|create-etherstub st1|delete-etherstub st1\n"
		    "delete flow web (vnic v1 is deleted)|remove-flow web|"
		    "add-flow -l v1 -a transport=tcp,local_port=80 -p maxbw=10M web\n"
		    "delete addr 10.0.0.1/24 v1 (vnic v1 is deleted)|delete-addr -a 10.0.0.1/24 v1|"
		    "create-addr -a 10.0.0.1/24 v1\n"
		    "delete vnic v1 (etherstub st0 is deleted)|delete-vnic v1|"
		    "create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z1,maxbw=100M v1\n"
		    "delete etherstub st0|delete-etherstub st0|create-etherstub st0\n");
	/* without --prune, nothing the file does not name is touched */
	expect_plan("create-etherstub st1\n", CUR, false, "create etherstub st1|create-etherstub st1|delete-etherstub st1\n");
	/* the file's VNIC is over a link --prune would delete */
	expect_error("create-zone z1\ncreate-etherstub st1\n"
		     "create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z1,maxbw=100M v1\n",
		     CUR, true, "t.vw:3: v1 needs etherstub st0, which --prune deletes: the file does not create it");
	/* the zone is not of a kind the file names: it stays */
	expect_plan("create-etherstub st0\ncreate-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p maxbw=100M v1\n",
		    CUR, true,
		    "change vnic v1: zone z1 -> (default)|reset-linkprop -p zone v1|set-linkprop -p zone=z1 v1\n");
	/* a zone the VNIC leaves: the change comes before the deletion */
	expect_plan("create-zone z2\ncreate-etherstub st0\n"
		    "create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z2,maxbw=100M v1\n",
		    "create-zone z1\ncreate-etherstub st0\n"
		    "create-vnic -l st0 -m random -r 02:08:20:aa:bb:cc -v 5 -p zone=z1,maxbw=100M v1\n",
		    true,
		    "create zone z2|create-zone z2|delete-zone z2\n"
		    "change vnic v1: zone z1 -> z2|set-linkprop -p zone=z2 v1|set-linkprop -p zone=z1 v1\n"
		    "delete zone z1|delete-zone z1|create-zone z1\n");
}

static void test_aggr(void **state)
{
	static const char *const cur = "create-aggr -l eth1 -l eth2 -P L4 -L active -T short ag0\n";

	(void)state;
	expect_plan("create-aggr -l eth2 -l eth1 -L active ag0\n", cur, false, "");
	expect_plan("create-aggr -l eth1 -l eth3 -P L3,L2 -L active ag0\n", cur, false,
		    "change aggr ag0: policy L4 -> L2,L3, members eth1,eth2 -> eth1,eth3|modify-aggr -P L2,L3 ag0|"
		    "modify-aggr -P L4 ag0\n"
		    "|add-aggr -l eth3 ag0|remove-aggr -l eth3 ag0\n"
		    "|remove-aggr -l eth2 ag0|add-aggr -l eth2 ag0\n");
}

/* Phys links: their properties, all of them, as the file says. */
static void test_phys(void **state)
{
	(void)state;
	expect_plan("set-linkprop -p maxbw=1G eth1\n", "set-linkprop -p maxbw=500M,cpus=1 eth1\n", false,
		    "change phys eth1: maxbw 500M -> 1G, cpus 1 -> (default)|set-linkprop -p maxbw=1G eth1|"
		    "set-linkprop -p maxbw=500M eth1\n"
		    "|reset-linkprop -p cpus eth1|set-linkprop -p cpus=1 eth1\n");
}

/* set-linkprop of a link the file does not make: those properties only */
static void test_partial(void **state)
{
	(void)state;
	expect_plan("set-linkprop -p maxbw=100 v1\n", CUR, false, "");
	expect_plan("set-linkprop -p priority=low v1\n", CUR, true,
		    "change vnic v1: priority (default) -> low|set-linkprop -p priority=low v1|"
		    "reset-linkprop -p priority v1\n");
}

/* A VNIC's face is what it is: a different one replaces it. */
static void test_face(void **state)
{
	static const char *const cur = "create-etherstub s0\n"
				       "create-vnic -l s0 -m 02:00:00:00:00:01 -p face=vhost-user,vhost-mode=client vm1\n";

	(void)state;
	expect_plan("create-etherstub s0\ncreate-vnic -l s0 -m 02:00:00:00:00:01 -p vhost-mode=client,face=vhost-user vm1\n",
		    cur, false, "");
	expect_plan("create-etherstub s0\ncreate-vnic -l s0 -m 02:00:00:00:00:01 -p face=vhost-user vm1\n", cur, false,
		    "replace vnic vm1: -l s0 -v 0 face=vhost-user -m fixed/02:00:00:00:00:01 (was -l s0 -v 0 "
		    "face=vhost-user vhost-mode=client -m fixed/02:00:00:00:00:01)|delete-vnic vm1|"
		    "create-vnic -l s0 -m 02:00:00:00:00:01 -p face=vhost-user,vhost-mode=client vm1\n"
		    "|create-vnic -l s0 -m 02:00:00:00:00:01 -p face=vhost-user vm1|delete-vnic vm1\n");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("create-zone z1\n\nfrobnicate x\n", "", false, "t.vw:3: unknown subcommand 'frobnicate'");
	expect_error("create-zone z1\ndelete-zone z1\n", "", false,
		     "t.vw:2: 'delete-zone' has no place in a vWire file: it describes objects (create-*, add-flow, "
		     "add-aggr, modify-aggr, set-*prop, start-accounting; --prune deletes what it does not name)");
	expect_error("create-etherstub -t st0\n", "", false,
		     "t.vw:1: create-etherstub st0: -t has no place in a vWire file: it holds the persistent configuration");
	expect_error("create-etherstub st0\ncreate-vnic -l st0 st0\n", "", false,
		     "t.vw:2: st0: created twice (first on line 1)");
	expect_error("create-vnic -l st0 -p maxbw=fast v1\n", "", false,
		     "t.vw:1: v1: invalid maxbw 'fast' (10K to 100G; a bare number is Mb/s)");
	expect_error("set-flowprop -p maxbw=1M web\n", "", false,
		     "t.vw:1: web: set-flowprop: no flow of that name is created before this line");
	expect_error("create-vnic -l st0 -m 02:00 v1\n", "", false, "t.vw:1: v1: invalid MAC address '02:00'");
	expect_error("create-etherstub st0 \\\n", "", false,
		     "t.vw:1: '\\' at the end of the file continues a line that is not there");
	expect_error("create-etherstub ${T}st0\n", "", false, "t.vw:1: undefined variable 'T'");
	/* a name the daemon refuses, and one that would read as an option in
	 * the delete undoing it (found by fuzz_plan) */
	expect_error("create-etherstub st0\ncreate-vnic -l st0 -- -v1\n", "", false,
		     "t.vw:2: create-vnic: invalid name '-v1' (letters, digits, '_', '.', '-', starting with a letter)");
	expect_error("create-zone 9z\n", "", false,
		     "t.vw:1: create-zone: invalid name '9z' (letters, digits, '_', '.', '-', starting with a letter)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_to_change),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_change_in_place),
		cmocka_unit_test(test_replace_takes_dependents),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_aggr),
		cmocka_unit_test(test_phys),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_face),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
