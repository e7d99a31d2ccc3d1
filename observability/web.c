/*
 * The console's files by path (web.h).
 */
#include <string.h>

#include "observability/web.h"

const struct web_asset *web_asset_find(const char *path)
{
	const struct web_asset *a;

	if (!strcmp(path, "/"))
		path = "/index.html";
	for (a = web_assets; a->path; a++)
		if (!strcmp(a->path, path))
			return a;
	return NULL;
}
