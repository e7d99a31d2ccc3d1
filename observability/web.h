/*
 * The web console's files (observability/web/), built into vwired: the
 * Makefile turns them into C arrays (scripts/web-embed.sh), so an installed
 * vwired needs no data directory.
 */
#ifndef VW_WEB_H
#define VW_WEB_H

#include <stddef.h>

struct web_asset {
	const char *path; /* "/console.js" */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

/* Ends with an entry whose path is NULL (generated). */
extern const struct web_asset web_assets[];

/* The file served at path ("/" is /index.html), or NULL. */
const struct web_asset *web_asset_find(const char *path);

#endif
