#include "server/malloc_settings.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace mlpd {

bool UseServerMallocSettings() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if ((tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) ||
      std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr ||
      std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr) {
    return false;
  }
  // Both must be set: a fixed mmap threshold with the default 128 KB trim threshold would trim
  // the heap after nearly every large free, which is worse than the default.
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(kServerMmapThreshold)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(kServerTrimThreshold)) == 1;
}

}  // namespace mlpd
