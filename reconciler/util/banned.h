/*
 * banned.h - functions that must not be used in ccaictl (git's idea).
 *
 * Each is redefined to an undeclared identifier, so a use is a compile
 * error naming the reason.  Use the ccai_buf API, snprintf, strtol,
 * gmtime_r/localtime_r and OpenSSL's RAND_bytes instead.
 */
#ifndef CCAI_UTIL_BANNED_H
#define CCAI_UTIL_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef rand
#define rand() BANNED(rand)
#undef system
#define system(x) BANNED(system)

#endif
