/*
 * Status codes: messages, errno mapping and CLI exit codes.
 */
#include <errno.h>
#include <stdlib.h>

#include "lib/vwire.h"

static const char *const status_msg[VW_E_COUNT] = {
	[VW_OK]         = "success",
	[VW_E_INVAL]    = "invalid value",
	[VW_E_USAGE]    = "invalid command usage",
	[VW_E_NOENT]    = "object not found",
	[VW_E_EXIST]    = "object already exists",
	[VW_E_BUSY]     = "object busy",
	[VW_E_NOTSUP]   = "operation not supported",
	[VW_E_PERM]     = "permission denied",
	[VW_E_NOMEM]    = "out of memory or resources",
	[VW_E_SYS]      = "system call failed",
	[VW_E_NODAEMON] = "no daemon",
	[VW_E_PROTO]    = "protocol error",
};

const char *vw_strstatus(vw_status_t st)
{
	if ((unsigned int)st >= VW_E_COUNT)
		return "unknown status";
	return status_msg[st];
}

/* Accepts errno values with either sign, as netlink helpers return -errno. */
vw_status_t vw_errno2status(int err)
{
	if (err < 0)
		err = -err;

	switch (err) {
	case 0:
		return VW_OK;
	case ENOENT:
	case ENODEV:
		return VW_E_NOENT;
	case EEXIST:
		return VW_E_EXIST;
	case EBUSY:
		return VW_E_BUSY;
	case EINVAL:
		return VW_E_INVAL;
	case EPERM:
	case EACCES:
		return VW_E_PERM;
	case ENOMEM:
	case ENOSPC:
	case ENOBUFS:
		return VW_E_NOMEM;
	case EOPNOTSUPP:
#if ENOTSUP != EOPNOTSUPP
	case ENOTSUP:
#endif
		return VW_E_NOTSUP;
	default:
		return VW_E_SYS;
	}
}

int vw_status_exit(vw_status_t st)
{
	switch (st) {
	case VW_OK:
		return 0;
	case VW_E_USAGE:
		return 2;
	default:
		return 1;
	}
}
