/* log.h - the program's one logger: levels, stderr or syslog. */
#ifndef MT_LOG_H
#define MT_LOG_H

enum mt_log_level { MT_LOG_ERROR = 0, MT_LOG_WARN = 1, MT_LOG_INFO = 2, MT_LOG_DEBUG = 3 };

/* Messages above this level are dropped (default MT_LOG_WARN). */
void mt_log_set_level(int level);
int mt_log_get_level(void);
/* Program name printed before each stderr message ("minetrace"). */
void mt_log_set_ident(const char *ident);
/* 1: send to syslog (daemon facility) instead of stderr. */
void mt_log_use_syslog(int on);

void mt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whatever the level: what the user asked for (statistics reports, reloads). syslog: LOG_NOTICE. */
void mt_log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define mt_err(...) mt_log(MT_LOG_ERROR, __VA_ARGS__)
#define mt_warn(...) mt_log(MT_LOG_WARN, __VA_ARGS__)
#define mt_info(...) mt_log(MT_LOG_INFO, __VA_ARGS__)
#define mt_debug(...) mt_log(MT_LOG_DEBUG, __VA_ARGS__)

#endif
