#pragma once

/// @file
/// Names the calling thread, so `top -H`, `perf` and debuggers show the engine's and the bulk
/// jobs' threads by role.

#include <pthread.h>

namespace twiliocore {

/// Names the calling thread (at most 15 characters are kept). Best effort: failure is ignored.
inline void NameCurrentThread(const char* name) noexcept {
#if defined(__APPLE__)
  (void)pthread_setname_np(name);
#elif defined(__linux__)
  (void)pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

}  // namespace twiliocore
