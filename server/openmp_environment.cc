#include "server/openmp_environment.h"

#include <stdlib.h>
#include <unistd.h>

namespace mlpd {

void UseServerOpenMpSettings(char** argv) {
  if (getenv("GOMP_SPINCOUNT") != nullptr || getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", kServerSpinCount, /*overwrite=*/0) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: exec failed (no /proc?). Run with the runtime's defaults.
}

}  // namespace mlpd
