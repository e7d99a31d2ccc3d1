/*
 * The one command table: each command's grammar (lib/cmd.c), its handler in
 * the daemon (control/handlers.c) and how vwadm prints its reply
 * (cli/cmdout.c) are found by its id.  These tests fail when an implemented
 * command lacks any of the three, or when the tables disagree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli/cmdout.h"
#include "control/ctl.h"
#include "lib/vwire.h"

/* Every id has its grammar, at its place, found by its name too. */
static void test_every_id_has_grammar(void **state)
{
	const struct vw_cmddef *tab;
	int id, n;

	(void)state;
	tab = vw_cmd_table(&n);
	assert_int_equal(n, VW_CMD_COUNT);
	for (id = 0; id < VW_CMD_COUNT; id++) {
		const struct vw_cmddef *def = vw_cmd_def((enum vw_cmd_id)id);

		assert_non_null(def);
		assert_ptr_equal(def, &tab[id]);
		assert_int_equal(def->id, id);
		assert_non_null(def->name);
		assert_ptr_equal(vw_cmd_find(def->name), def);
	}
	assert_null(vw_cmd_def(VW_CMD_COUNT));
}

/* An implemented command has a handler; one that is not has none (the
 * daemon says "not supported yet"). */
static void test_handler_iff_implemented(void **state)
{
	int id;

	(void)state;
	for (id = 0; id < VW_CMD_COUNT; id++) {
		const struct vw_cmddef *def = vw_cmd_def((enum vw_cmd_id)id);

		if (def->implemented != ctl_handles((enum vw_cmd_id)id))
			fail_msg("%s: %s", def->name,
				 def->implemented ? "implemented but the daemon has no handler"
						  : "not implemented but the daemon has a handler");
	}
}

/* What vwadm prints agrees with what the reply holds: a public table
 * command has its columns, export its lines, and nothing else prints. */
static void test_output_matches_kind(void **state)
{
	int id;

	(void)state;
	for (id = 0; id < VW_CMD_COUNT; id++) {
		const struct vw_cmddef *def = vw_cmd_def((enum vw_cmd_id)id);
		const struct cmd_out *co = cmd_out((enum vw_cmd_id)id);
		bool printed = def->implemented && def->usage; /* vwadm runs it */

		switch (def->out) {
		case VW_OUT_TABLE:
			if (printed && (!co || !co->fields || !co->rectype || (co->parsable != 'p' && co->parsable != 'c')))
				fail_msg("%s: a table without vwadm's columns", def->name);
			break;
		case VW_OUT_LINES:
			if (printed && (!co || co->fields || !co->rectype))
				fail_msg("%s: lines without vwadm's record type", def->name);
			break;
		default:
			if (co)
				fail_msg("%s: prints records its reply does not hold", def->name);
			break;
		}
		if (def->out == VW_OUT_TABLE && strncmp(def->name, "show-", 5))
			fail_msg("%s: a table from a command that is not a show-*", def->name);
		if (!def->usage && def->out != VW_OUT_RECORDS && def->out != VW_OUT_STREAM)
			fail_msg("%s: an internal command whose reply is for vwadm", def->name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_id_has_grammar),
		cmocka_unit_test(test_handler_iff_implemented),
		cmocka_unit_test(test_output_matches_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
