/* Fault injection for the robustness tests (LD_PRELOAD): makes writes to chosen files fail the
 * way a full disk does, and fakes the free space statvfs reports.
 *   FAILWRITE_MATCH  substring of the paths whose writes are limited (e.g. "data.h5")
 *   FAILWRITE_BYTES  bytes those files may receive in total before every write fails, ENOSPC
 *   FAILWRITE_AVAIL  bytes statvfs reports free (absent: the real value)
 * Only the system calls HDF5's sec2 driver and the C++ library use are wrapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096
static char limited[MAX_FD];
static long long budget = -1; /* -1: not read yet */

static long long remaining(void) {
  if (budget < 0) {
    const char* b = getenv("FAILWRITE_BYTES");
    budget = b ? atoll(b) : (1LL << 62);
  }
  return budget;
}

static void track(int fd, const char* path) {
  const char* m = getenv("FAILWRITE_MATCH");
  if (fd >= 0 && fd < MAX_FD) limited[fd] = m && *m && path && strstr(path, m) != NULL;
}

/* Returns how many of n bytes may be written to fd (0: fail with ENOSPC). */
static size_t allowance(int fd, size_t n) {
  if (fd < 0 || fd >= MAX_FD || !limited[fd]) return n;
  long long left = remaining();
  if (left <= 0) return 0;
  if ((long long)n > left) n = (size_t)left;
  budget -= (long long)n;
  return n;
}

#define WRAP_OPEN(name)                                                        \
  int name(const char* path, int flags, ...) {                                 \
    static int (*real)(const char*, int, ...) = NULL;                          \
    if (!real) real = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, #name); \
    mode_t mode = 0;                                                           \
    if (flags & (O_CREAT | O_TMPFILE)) {                                       \
      va_list ap;                                                              \
      va_start(ap, flags);                                                     \
      mode = va_arg(ap, mode_t);                                               \
      va_end(ap);                                                              \
    }                                                                          \
    int fd = real(path, flags, mode);                                          \
    track(fd, path);                                                           \
    return fd;                                                                 \
  }
WRAP_OPEN(open)
WRAP_OPEN(open64)

#define WRAP_OPENAT(name)                                                           \
  int name(int dir, const char* path, int flags, ...) {                             \
    static int (*real)(int, const char*, int, ...) = NULL;                          \
    if (!real) real = (int (*)(int, const char*, int, ...))dlsym(RTLD_NEXT, #name); \
    mode_t mode = 0;                                                                \
    if (flags & (O_CREAT | O_TMPFILE)) {                                            \
      va_list ap;                                                                   \
      va_start(ap, flags);                                                          \
      mode = va_arg(ap, mode_t);                                                    \
      va_end(ap);                                                                   \
    }                                                                               \
    int fd = real(dir, path, flags, mode);                                          \
    track(fd, path);                                                                \
    return fd;                                                                      \
  }
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)

#define WRAP_PWRITE(name, off_type)                                                            \
  ssize_t name(int fd, const void* buf, size_t n, off_type off) {                              \
    static ssize_t (*real)(int, const void*, size_t, off_type) = NULL;                         \
    if (!real) real = (ssize_t(*)(int, const void*, size_t, off_type))dlsym(RTLD_NEXT, #name); \
    size_t k = allowance(fd, n);                                                               \
    if (n > 0 && k == 0) {                                                                     \
      errno = ENOSPC;                                                                          \
      return -1;                                                                               \
    }                                                                                          \
    return real(fd, buf, k, off);                                                              \
  }
WRAP_PWRITE(pwrite, off_t)
WRAP_PWRITE(pwrite64, off64_t)

ssize_t write(int fd, const void* buf, size_t n) {
  static ssize_t (*real)(int, const void*, size_t) = NULL;
  if (!real) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  size_t k = allowance(fd, n);
  if (n > 0 && k == 0) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, k);
}

static void fake_avail(struct statvfs* st) {
  const char* a = getenv("FAILWRITE_AVAIL");
  if (!a || st->f_frsize == 0) return;
  st->f_bavail = (fsblkcnt_t)(atoll(a) / (long long)st->f_frsize);
  st->f_bfree = st->f_bavail;
}

int statvfs(const char* path, struct statvfs* st) {
  static int (*real)(const char*, struct statvfs*) = NULL;
  if (!real) real = (int (*)(const char*, struct statvfs*))dlsym(RTLD_NEXT, "statvfs");
  int rc = real(path, st);
  if (rc == 0) fake_avail(st);
  return rc;
}
int statvfs64(const char* path, struct statvfs64* st) {
  static int (*real)(const char*, struct statvfs64*) = NULL;
  if (!real) real = (int (*)(const char*, struct statvfs64*))dlsym(RTLD_NEXT, "statvfs64");
  int rc = real(path, st);
  if (rc == 0) fake_avail((struct statvfs*)st);
  return rc;
}
