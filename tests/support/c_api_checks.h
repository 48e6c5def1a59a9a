/* The checks C API scenarios are written with (tests/support/c_api_*scenarios.c), in C11. A
 * scenario function has parameters `char* msg, size_t size` and a `done:` label that frees its
 * handles: a failed check writes what failed, its line and ph_last_error() into msg and jumps
 * there. */
#ifndef POLYHEAD_TESTS_C_API_CHECKS_H_
#define POLYHEAD_TESTS_C_API_CHECKS_H_

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "polyhead/polyhead_c.h"

static void phs_report(char* msg, size_t size, const char* file, int line, const char* format,
                       ...) {
  char what[512];
  const char* base = strrchr(file, '/');
  va_list args;
  va_start(args, format);
  vsnprintf(what, sizeof what, format, args);
  va_end(args);
  snprintf(msg, size, "%s:%d: %s (ph_last_error: \"%s\")", base ? base + 1 : file, line, what,
           ph_last_error());
}

/* Checks `cond`; on failure records it and jumps to the scenario's cleanup. */
#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      phs_report(msg, size, __FILE__, __LINE__, "check failed: %s", #cond); \
      goto done;                                                            \
    }                                                                       \
  } while (0)

/* Checks that `call` succeeds. */
#define CHECK_OK(call)                                                   \
  do {                                                                   \
    ph_status ok_status_ = (call);                                       \
    if (ok_status_ != PH_OK) {                                           \
      phs_report(msg, size, __FILE__, __LINE__, "%s returned %s", #call, \
                 ph_status_name(ok_status_));                            \
      goto done;                                                         \
    }                                                                    \
  } while (0)

/* Checks that `call` fails with `code` and a message containing `needle` (NULL: any message). */
#define CHECK_ERROR(call, code, needle)                                                    \
  do {                                                                                     \
    if (!phs_expect_error((call), (code), (needle), #call, __FILE__, __LINE__, msg, size)) \
      goto done;                                                                           \
  } while (0)

static int phs_expect_error(ph_status status, ph_status code, const char* needle, const char* call,
                            const char* file, int line, char* msg, size_t size) {
  if (status != code) {
    phs_report(msg, size, file, line, "%s returned %s, expected %s", call, ph_status_name(status),
               ph_status_name(code));
    return 0;
  }
  if (needle && !strstr(ph_last_error(), needle)) {
    phs_report(msg, size, file, line, "%s: message lacks \"%s\"", call, needle);
    return 0;
  }
  return 1;
}

#endif /* POLYHEAD_TESTS_C_API_CHECKS_H_ */
