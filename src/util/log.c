/* log.c - the program's one logger: levels, stderr or syslog. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static int g_level = MT_LOG_WARN;
static const char *g_ident = "minetrace";
static int g_syslog;

void mt_log_set_level(int level)
{
	g_level = level;
}

int mt_log_get_level(void)
{
	return g_level;
}

void mt_log_set_ident(const char *ident)
{
	g_ident = ident;
}

void mt_log_use_syslog(int on)
{
	if (on && !g_syslog)
		openlog(g_ident, LOG_PID, LOG_DAEMON);
	else if (!on && g_syslog)
		closelog();
	g_syslog = on;
}

void mt_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[1024];
	va_list ap;

	if (level > g_level)
		return;
	if (level < MT_LOG_ERROR)
		level = MT_LOG_ERROR;
	if (level > MT_LOG_DEBUG)
		level = MT_LOG_DEBUG;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_syslog)
		syslog(prio[level], "%s", msg);
	else
		fprintf(stderr, "%s: %s: %s\n", g_ident, names[level], msg);
}

void mt_log_notice(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_syslog)
		syslog(LOG_NOTICE, "%s", msg);
	else
		fprintf(stderr, "%s: notice: %s\n", g_ident, msg);
}
