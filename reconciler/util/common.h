/*
 * common.h - included first by every .c file of ccaictl.
 *
 * Feature macros, the standard headers nearly every file needs, attribute
 * macros, and banned.h, which turns unsafe libc functions into compile
 * errors.  Nothing here allocates or has state.
 */
#ifndef CCAI_UTIL_COMMON_H
#define CCAI_UTIL_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CCAI_VERSION "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define CCAI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CCAI_NORETURN __attribute__((noreturn))
#define CCAI_UNUSED __attribute__((unused))
#define CCAI_WARN_UNUSED __attribute__((warn_unused_result))
#define CCAI_FALLTHROUGH __attribute__((fallthrough))
#else
#define CCAI_PRINTF(f, a)
#define CCAI_NORETURN
#define CCAI_UNUSED
#define CCAI_WARN_UNUSED
#define CCAI_FALLTHROUGH
#endif

/*
 * A static function worth testing directly is marked CCAI_TESTABLE: static
 * in the libraries and the shipped binary, visible in test targets, the
 * only ones that define CCAI_UNIT_TESTING (curl's UNITTEST trick; the
 * files that have one are built again for the tests: CCAI_TESTABLE_SRC
 * in tests/CMakeLists.txt).
 */
#ifdef CCAI_UNIT_TESTING
#define CCAI_TESTABLE
#else
#define CCAI_TESTABLE static
#endif

#define CCAI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CCAI_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CCAI_MAX(a, b) ((a) > (b) ? (a) : (b))

#include "util/banned.h"

#endif
