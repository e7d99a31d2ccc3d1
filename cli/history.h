/* vwstat show-history (cli/history.c). */
#ifndef VW_CLI_HISTORY_H
#define VW_CLI_HISTORY_H

#include "cli/output.h"

/* argv[0] is "show-history"; sock the daemon to ask for its file. */
int history_main(const char *sock, int argc, char **argv);
/* show-history's fields (-o), for vwstat --help */
const struct out_field *history_fields(void);

#endif
