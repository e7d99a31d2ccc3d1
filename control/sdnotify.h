/*
 * Readiness and stopping, told to a service manager (systemd's Type=notify)
 * with the notification protocol of sd_notify(3).
 */
#ifndef VW_SDNOTIFY_H
#define VW_SDNOTIFY_H

/* Reads NOTIFY_SOCKET and removes it from the environment (no child gets
 * it); call once, before any thread starts. */
void sdnotify_init(void);

/* Sends STATE ("READY=1", "STOPPING=1") when NOTIFY_SOCKET was set; does
 * nothing otherwise.  A failure is said once on stderr, never fatal. */
void sdnotify(const char *state);

#endif
